"""The two estimators learn, calibrate and evaluate on labelled hold-outs."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest

from aetheredge.datasets.frames import load_frame, split
from aetheredge.models import AnomalyDetector, CostModel, build_model
from aetheredge.models.anomaly import INPUTS, blank_context, has_baseline


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
    assert set(metrics) == {
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "average_precision",
        "alert_rate",
        "f1_no_baseline",
        "roc_auc_no_baseline",
    }
    assert metrics["roc_auc"] > 0.9 and metrics["roc_auc_no_baseline"] > 0.9
    assert metrics["f1"] > 0.25 and metrics["f1_no_baseline"] > 0.25


def test_rows_with_and_without_a_baseline_share_one_threshold(anomaly_split):
    model = AnomalyDetector(n_estimators=60, random_state=0).fit(anomaly_split.X_train)
    X = anomaly_split.X_train
    with_baseline = has_baseline(X)
    assert with_baseline.mean() > 0.9  # after warm-up, nearly every training row
    # each regime flags about `contamination` of its own training rows
    for rows in (model.score_samples(X[with_baseline]), model.score_samples(blank_context(X))):
        assert model.flag(rows).mean() == pytest.approx(model.contamination, abs=0.006)
    forest = model.forest_
    assert len(forest.inputs.estimators_) == 30 and len(forest.context.estimators_) == 30
    split_on = {f for tree in forest.inputs.estimators_ for f in tree.tree_.feature if f >= 0}
    assert max(split_on) < INPUTS  # the inputs trees never look at a z-score


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


def test_shard_forests_draw_as_many_rows_per_tree_as_the_whole_fit():
    cost = CostModel(max_samples=0.3, max_tree_rows=None)
    assert cost.make_forest(5, 0, rows=1000).max_samples == 300
    assert cost.make_forest(5, 0, rows=500, data_fraction=0.5).max_samples == 300
    assert cost.make_forest(5, 0, rows=100, data_fraction=0.1).max_samples == 100
    assert CostModel(max_samples=None).tree_rows(500, data_fraction=0.5) == 500
    shard = AnomalyDetector().make_forest(5, 0, rows=5000, data_fraction=0.5)
    assert [f.max_samples for f in shard.groups] == [256, 256]
    small = AnomalyDetector().make_forest(5, 0, rows=100)
    assert [f.max_samples for f in small.groups] == [100, 100]


def test_the_cost_forest_caps_the_rows_each_tree_draws():
    cost = CostModel(max_samples=0.3, max_tree_rows=100_000)
    assert cost.tree_rows(200_000) == 60_000  # under the cap: the fraction
    assert cost.tree_rows(1_000_000) == 100_000
    assert cost.tree_rows(500_000, data_fraction=0.5) == 100_000  # a shard: the same cap
    X = np.random.default_rng(0).normal(size=(400, 3))
    forest = CostModel(n_estimators=3, max_tree_rows=50, random_state=0).fit(X, np.abs(X[:, 0]))
    assert forest.forest_._n_samples_bootstrap == 50


def test_a_cost_version_from_before_the_cap_loads_uncapped():
    legacy = CostModel(max_samples=0.3)
    del legacy.__dict__["max_tree_rows"]  # as a model pickled before the cap
    restored = pickle.loads(pickle.dumps(legacy))
    assert restored.get_params()["max_tree_rows"] is None
    assert restored.tree_rows(1_000_000) == 300_000


def test_a_version_from_before_baselines_still_scores_wider_rows(anomaly_split):
    legacy = AnomalyDetector(n_estimators=10, random_state=0)
    legacy.forest_ = IsolationForest(n_estimators=10, random_state=0).fit(
        anomaly_split.X_train[:, :INPUTS]
    )
    expected = -legacy.forest_.score_samples(anomaly_split.X_holdout[:, :INPUTS])
    np.testing.assert_array_equal(legacy.score_samples(anomaly_split.X_holdout), expected)
