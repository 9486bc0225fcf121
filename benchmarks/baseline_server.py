"""The baseline of ``benchmarks.http_load``: FastAPI + scikit-learn in one process.

What a team would write first: a typed FastAPI route validating the same request model,
scoring with the scikit-learn model loaded from the same registry version, served by
one uvicorn process.

    python -m benchmarks.baseline_server PORT VERSION   (AETHER_HOME names the registry)
"""

from __future__ import annotations

import sys
import uuid

import uvicorn
from fastapi import FastAPI

from aetheredge import kinds
from aetheredge.api.v1 import columns, response_model, row_columns, scoring_request
from aetheredge.artifacts.registry import Registry

ANOMALY = kinds.get("anomaly")
AnomalyRequest = scoring_request("anomaly")
AnomalyResponse = response_model("anomaly")


def build(version: str) -> FastAPI:
    model = Registry().load("anomaly", version).model
    app = FastAPI(title="baseline: FastAPI + scikit-learn")

    @app.post("/v1/anomaly/score", response_model=AnomalyResponse)
    def score(body: AnomalyRequest) -> AnomalyResponse:
        cols = columns(body.rows, row_columns("anomaly"))
        scores = model.score_samples(ANOMALY.model_input(ANOMALY.encode(cols)))
        flags = model.flag(scores)
        results = [
            {"entity_id": e, "score": float(s), "is_anomaly": bool(f)}
            for e, s, f in zip(cols["entity_id"], scores, flags, strict=True)
        ]
        return AnomalyResponse(
            version=version,
            request_id=uuid.uuid4().hex,
            threshold=model.threshold_,
            degraded=False,
            results=results,
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    port, version = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(build(version), host="127.0.0.1", port=port, log_level="warning")
