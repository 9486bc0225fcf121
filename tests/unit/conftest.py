"""Fixtures for tests without Ray: a scoring service over real registered models, and
checkov's scan of every rendered manifest."""

import pytest

from aetheredge.api.limits import BodyLimit
from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.frames import load_frame, split
from aetheredge.models import build_model
from aetheredge.ops.kubernetes.manifests import (
    ENVIRONMENTS,
    KUBERAY,
    chart_values,
    namespace,
    render,
    render_chart,
)
from aetheredge.ops.kubernetes.scan import Scan, scan_all
from aetheredge.serving.runtime import runtime_for
from aetheredge.serving.scoring import ScoringService
from tests.support.k8s import skip_without_checkov


@pytest.fixture(scope="module")
def service(settings):
    registry = Registry(settings.model_copy(update={"model_prefix": "svc"}))
    for kind in ("anomaly", "cost"):
        data = split(kind, load_frame(kind, rows=10_000, seed=1))
        model = build_model(kind, n_estimators=10, random_state=0).fit(data.X_train, data.y_train)
        info = registry.register(model, params={}, metrics={}, sample=data.X_holdout[:200], tags={})
        registry.promote(kind, info.version)
    runtimes = {kind: runtime_for(kind, registry) for kind in ("anomaly", "cost")}
    for runtime in runtimes.values():
        runtime.load()

    async def score(kind, X):
        return runtimes[kind].score(X)

    return ScoringService(runtimes, score, BodyLimit(64 * 1024))


@pytest.fixture(scope="session")
def manifest_scans() -> dict[str, Scan]:
    """checkov's findings on every overlay (``kustomize-<env>``) and every chart profile
    (``helm-<env>``), from one checkov run."""
    skip_without_checkov()
    manifests = {}
    for env in ENVIRONMENTS:
        manifests[f"kustomize-{env}"] = render(KUBERAY / "overlays" / env)
        manifests[f"helm-{env}"] = render_chart(chart_values(env), namespace(env))
    return scan_all(manifests)
