"""Derived z-score features: the documented recurrences, order-independence, warm-up."""

import numpy as np

from aetheredge.datasets.synthetic import telemetry
from aetheredge.features.baselines import (
    ALPHA,
    DECAY,
    WARMUP,
    Z_CLIP,
    derive,
    history,
)
from aetheredge.kinds.anomaly import KIND as ANOMALY


def _naive(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The module docstring's recurrences, one row at a time: the state before each row."""
    means, variances = np.zeros((len(X), X.shape[1])), np.zeros((len(X), X.shape[1]))
    mean, var = X[0].astype(float), np.zeros(X.shape[1])
    for t, x in enumerate(X[1:].astype(float), start=1):
        means[t], variances[t] = mean, var
        d = x - mean
        mean = ALPHA * x + DECAY * mean
        var = (DECAY * ALPHA) * (d * d) + DECAY * var
    return means, variances


def test_vectorised_history_is_the_documented_recurrence():
    X = ANOMALY.encode(telemetry(300, steps_per_entity=300, seed=3))
    before, _, _ = history(X)
    naive_mean, naive_var = _naive(X)
    np.testing.assert_allclose(before.mean, naive_mean, rtol=1e-12)
    np.testing.assert_allclose(before.var, naive_var, rtol=1e-12)
    assert list(before.count[:3]) == [0, 1, 2]
    # the state after every row is the state before one more
    np.testing.assert_allclose(history(X)[1], history(np.vstack([X, X[:1]]))[0].mean[-1])


def test_rows_in_any_order_get_the_same_features():
    fleet = telemetry(4 * 200, steps_per_entity=200, seed=5, incident_rate=0.05)
    Z = derive(fleet, ANOMALY.encode(fleet))
    shuffled = fleet.sample(frac=1, random_state=0)
    np.testing.assert_array_equal(derive(shuffled, ANOMALY.encode(shuffled)), Z[shuffled.index])
    first_rows = fleet.groupby("entity_id").head(WARMUP).index
    assert not Z[first_rows].any()  # warm-up: no baseline yet
    assert np.abs(Z).max() <= Z_CLIP and (np.abs(Z) > 3).any()


def test_incidents_stand_out_against_the_entity_baseline():
    fleet = telemetry(20 * 500, steps_per_entity=500, seed=8, incident_rate=0.03)
    peak = np.abs(derive(fleet, ANOMALY.encode(fleet))).max(axis=1)
    labelled = fleet.is_anomaly.to_numpy()
    # a 4-sigma deviation is ten times likelier on an incident row than on a normal one
    assert (peak[labelled] > 4).mean() > 10 * (peak[~labelled] > 4).mean()


def test_model_matrix_widths_and_anonymous_rows():
    fleet = telemetry(50, seed=1)
    assert ANOMALY.model_matrix(fleet).shape == (len(fleet), len(ANOMALY.feature_names))
    anonymous = fleet.drop(columns=["entity_id"])
    assert not derive(anonymous, ANOMALY.encode(anonymous)).any()
