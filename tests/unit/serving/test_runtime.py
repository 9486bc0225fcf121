"""MLflow registry (real SQLite store) and the serving runtime on top of it, without Ray."""

from pathlib import Path

import numpy as np
import pytest

from aetheredge import kinds
from aetheredge.artifacts.registry import COMPILED_ARTIFACT, PromotionRefusedError, Registry
from aetheredge.datasets.frames import load_frame, split
from aetheredge.models import AnomalyDetector
from aetheredge.serving.runtime import runtime_for


@pytest.fixture(scope="module")
def data():
    return split("anomaly", load_frame("anomaly", rows=20_000, seed=0))


@pytest.fixture(scope="module")
def registry(settings, data):
    registry = Registry(settings)
    for trees in (10, 20):
        model = AnomalyDetector(n_estimators=trees, random_state=0).fit(data.X_train)
        registry.register(
            model,
            params={"trees": trees},
            metrics=model.evaluate(data.X_holdout, data.y_holdout),
            sample=data.X_holdout[:500],
            tags={"test": "yes"},
        )
    return registry


def test_versions_and_champion_alias(registry):
    assert [v.version for v in registry.versions("anomaly")] == ["2", "1"]
    assert all(v.compiled for v in registry.versions("anomaly"))
    assert registry.champion("anomaly") is None
    registry.promote("anomaly", "1")
    champion = registry.champion("anomaly")
    assert champion.version == "1" and "champion" in champion.aliases
    assert {"f1", "roc_auc", "precision", "recall"} <= set(champion.metrics)


def test_loaded_model_scores_like_the_trained_one(registry, data):
    loaded = registry.load("anomaly", "2")
    assert loaded.info.version == "2"
    assert len(loaded.model.forest_.estimators_) == 20
    again = AnomalyDetector(n_estimators=20, random_state=0).fit(data.X_train)
    np.testing.assert_array_equal(
        loaded.model.score_samples(data.X_holdout), again.score_samples(data.X_holdout)
    )


def test_unknown_version_is_a_lookup_error(registry):
    with pytest.raises(LookupError, match="version 42"):
        registry.load("anomaly", "42")
    with pytest.raises(LookupError, match="@champion"):
        registry.load("cost")


def test_runtime_serves_champion_and_swaps_only_to_a_loadable_version(registry):
    registry.promote("anomaly", "1")
    runtime = runtime_for("anomaly", registry)
    assert not runtime.ready
    assert runtime.load() == "1"
    rows = load_frame("anomaly", rows=2016, seed=5).head(4)
    X = kinds.get("anomaly").model_matrix(rows)
    out = runtime.score(X)
    assert out.version == "1" and runtime.engine == "onnxruntime" and len(out.values) == 4
    body = runtime.body(out, list(rows.entity_id))
    assert body["results"][0]["entity_id"] == rows.entity_id.iloc[0]
    assert all((r["score"] >= body["threshold"]) == r["is_anomaly"] for r in body["results"])
    with pytest.raises(LookupError):
        runtime.load("42")
    assert runtime.card().version == "1"  # still serving the old version
    assert runtime.load("2") == "2"
    assert runtime.score(X).version == "2"


def test_a_version_whose_compiled_form_disagrees_is_never_promoted(settings, data):
    registry = Registry(settings.model_copy(update={"model_prefix": "strict"}))
    model = AnomalyDetector(n_estimators=10, random_state=1).fit(data.X_train)
    info = registry.register(
        model, params={}, metrics={}, sample=data.X_holdout[:500], tags={}, tolerance=0.0
    )
    assert not info.compiled  # float32 summation differs from sklearn by more than 0
    with pytest.raises(PromotionRefusedError, match="refusing to promote"):
        registry.promote("anomaly", info.version)
    assert registry.champion("anomaly") is None


def test_runtime_falls_back_to_sklearn_when_the_compiled_model_is_gone(registry, data):
    info = registry.resolve("anomaly", "2")
    artifact = Path(registry.client.get_run(info.run_id).info.artifact_uri.removeprefix("file://"))
    (artifact / COMPILED_ARTIFACT).unlink()
    runtime = runtime_for("anomaly", registry)
    runtime.load("2")
    assert runtime.engine == "sklearn" and runtime.fallbacks == 1
    expected = registry.load("anomaly", "2").model.score_samples(data.X_holdout)
    np.testing.assert_allclose(runtime.score(data.X_holdout).values, expected, rtol=1e-12)
