"""The two estimators learn, calibrate and evaluate on labelled hold-outs."""

import numpy as np
import pytest
from sklearn.base import clone

from aetheredge.data import load_frame, split
from aetheredge.models import AnomalyDetector, CostModel, build_model
from aetheredge.models.evaluation import beats


@pytest.fixture(scope="module")
def anomaly_split():
    return split("anomaly", load_frame("anomaly", rows=60_000, seed=0))


@pytest.fixture(scope="module")
def cost_split():
    return split("cost", load_frame("cost", rows=30_000, seed=0))


def test_detector_threshold_is_calibrated_on_training_data(anomaly_split):
    model = AnomalyDetector(n_estimators=60, contamination=0.03, random_state=0)
    model.fit(anomaly_split.X_train)
    train_rate = model.predict(anomaly_split.X_train).mean()
    assert train_rate == pytest.approx(0.03, abs=0.005)
    assert model.calibration_["threshold"] == model.threshold_
    assert 0.0 < model.threshold_ <= 1.0


def test_detector_finds_injected_incidents(anomaly_split):
    model = AnomalyDetector(n_estimators=100, random_state=0).fit(anomaly_split.X_train)
    metrics = model.evaluate(anomaly_split.X_holdout, anomaly_split.y_holdout)
    assert set(metrics) == {"precision", "recall", "f1", "roc_auc", "alert_rate"}
    assert metrics["roc_auc"] > 0.9
    assert metrics["f1"] > 0.25


def test_cost_model_predicts_bills(cost_split):
    model = CostModel(n_estimators=30, random_state=0, n_jobs=2).fit(
        cost_split.X_train, cost_split.y_train
    )
    metrics = model.evaluate(cost_split.X_holdout, cost_split.y_holdout)
    assert metrics["r2"] > 0.7
    assert metrics["mape"] < 0.2
    assert (model.predict(cost_split.X_holdout) >= 0).all()


def test_models_follow_the_sklearn_api():
    model = build_model("cost", n_estimators=7, random_state=3)
    assert clone(model).get_params() == model.get_params()
    assert not hasattr(model, "forest_")
    with pytest.raises(ValueError, match="cost"):
        model.encode_target(None)
    np.testing.assert_allclose(model.encode_target(np.array([0.0, 9.0])), [0.0, np.log(10.0)])


def test_beats_uses_the_primary_metric_direction():
    assert beats("anomaly", {"f1": 0.6}, {"f1": 0.5})
    assert not beats("anomaly", {"f1": 0.5}, {"f1": 0.5})
    assert beats("cost", {"mae": 1.0}, {"mae": 2.0})
    assert not beats("cost", {"mae": 2.0}, {"mae": 1.0})


def test_shard_forests_draw_as_many_rows_per_tree_as_the_whole_fit():
    cost = CostModel(max_samples=0.3)
    assert cost.make_forest(5, 0).max_samples == 0.3
    assert cost.make_forest(5, 0, data_fraction=0.5).max_samples == pytest.approx(0.6)
    assert cost.make_forest(5, 0, data_fraction=0.1).max_samples == 1.0
    assert AnomalyDetector().make_forest(5, 0, data_fraction=0.5).max_samples == 256
