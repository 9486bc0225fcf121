"""The toy ``latency`` kind through the platform, in a fresh interpreter.

``python -m tests.support.plugins.scenario`` puts ``kinds/latency.py`` (beside it)
on ``aetheredge.kinds.__path__`` before anything lists the kinds, then takes it from
synthetic rows to served answers with the platform's own code, and prints what each
step gave as one JSON object (``tests/unit/kinds/test_plugin.py`` judges it). MLflow
writes under ``AETHER_HOME``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aetheredge.kinds

aetheredge.kinds.__path__.append(str(Path(__file__).with_name("kinds")))

import numpy as np  # noqa: E402
import orjson  # noqa: E402

from aetheredge.api import routes  # noqa: E402
from aetheredge.api.errors import RequestError  # noqa: E402
from aetheredge.api.limits import BodyLimit  # noqa: E402
from aetheredge.api.v1 import scoring_request  # noqa: E402
from aetheredge.artifacts.reference import Reference, compare  # noqa: E402
from aetheredge.artifacts.registry import Registry  # noqa: E402
from aetheredge.datasets.frames import load_frame, split  # noqa: E402
from aetheredge.lifecycle.gates import decide  # noqa: E402
from aetheredge.models import build_model  # noqa: E402
from aetheredge.ops.schedule import tasks  # noqa: E402
from aetheredge.serving.runtime import runtime_for  # noqa: E402
from aetheredge.serving.scoring import ScoringService  # noqa: E402
from aetheredge.settings import Settings  # noqa: E402
from jobs.retrain import parse_args  # noqa: E402
from serve.app import api  # noqa: E402
from serve.fastpath import ROUTES  # noqa: E402

KIND = "latency"
ROW = {"request_rate": 3000.0, "cpus": 8.0, "tier": "standard"}


def _fit(registry: Registry, seed: int, trees: int) -> tuple[Any, dict[str, float], Any]:
    data = split(KIND, load_frame(KIND, rows=6_000, seed=seed))
    model = build_model(KIND, n_estimators=trees, random_state=seed)
    model.fit(data.X_train, data.y_train)
    metrics = model.evaluate(data.X_holdout, data.y_holdout)
    sample = data.X_holdout[:300]
    info = registry.register(model, params={}, metrics=metrics, sample=sample, tags={})
    return info, metrics, data


async def _serve(service: ScoringService) -> dict[str, Any]:
    good = orjson.loads(await service.v1(KIND, orjson.dumps({"rows": [ROW, ROW]})))
    try:
        await service.v1(KIND, orjson.dumps({"rows": [ROW | {"tier": "gold"}]}))
        refused: Any = None
    except RequestError as exc:
        refused = [exc.status, exc.body["detail"][0]["loc"]]
    tensor = [3000.0, 8.0, 0.0, 1.0, 0.0]  # the same row: numbers, then tier one-hot
    request = {
        "inputs": [{"name": "features", "shape": [1, 5], "datatype": "FP64", "data": tensor}]
    }
    v2, _ = await service.infer(KIND, None, orjson.dumps(request), None)
    return {"v1": good, "v1_refused": refused, "v2": orjson.loads(v2)}


def main() -> None:
    settings = Settings()
    registry = Registry(settings)
    first, first_metrics, data = _fit(registry, seed=1, trees=20)
    registry.promote(KIND, first.version)
    second, second_metrics, _ = _fit(registry, seed=2, trees=3)
    decision = decide(
        KIND,
        second.version,
        second_metrics,
        first.version,
        first_metrics,
        compiled=second.compiled,
        margin=settings.promotion_margin,
        tolerance=settings.promotion_tolerance,
    )
    runtime = runtime_for(KIND, registry)
    runtime.load()

    async def score(kind: str, X: np.ndarray):
        return runtime.score(X)

    service = ScoringService({KIND: runtime}, score, BodyLimit(64 * 1024))
    served = asyncio.run(_serve(service))
    names = aetheredge.kinds.get(KIND).input_names
    reference = Reference.fit(names, data.X_train, runtime.score(data.X_holdout).values)
    shifted = data.X_holdout.copy()
    shifted[:, 0] *= 10  # ten times the load
    drift = compare(
        reference,
        KIND,
        first.version,
        shifted,
        runtime.score(shifted).values,
        None,
        threshold=settings.drift_psi_threshold,
        min_rows=100,
    )
    document = api.openapi()
    path = routes.score_path(KIND)
    print(
        json.dumps(
            {
                "kinds": aetheredge.kinds.names(),
                "metrics": first_metrics,
                "compiled": first.compiled,
                "engine": runtime.engine,
                "card": runtime.card().model_dump(),
                "decision": {
                    "promoted": decision.promoted,
                    "gates": [c.metric for c in decision.checks],
                },
                **served,
                "metadata": service.metadata(KIND).model_dump(),
                "drifted": drift.drifted,
                "openapi_request": document["paths"][path]["post"]["requestBody"],
                "openapi_summary": document["paths"][path]["post"]["summary"],
                "request_schema": scoring_request(KIND).__name__,
                "fast_routes": sorted(p for p in ROUTES if KIND in p),
                "retrain_args": parse_args(["--model", KIND]).model,
                "scheduled": sorted(t.name for t in tasks(settings) if t.kind == KIND),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
