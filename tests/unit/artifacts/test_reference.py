"""PSI against a stored reference: near zero for the same distribution, large for a shift."""

import json

import numpy as np
import pytest

from aetheredge.artifacts.reference import Histogram, Reference, compare

rng = np.random.default_rng(0)


def test_psi_is_near_zero_on_a_fresh_sample_and_large_on_a_shift():
    reference = Histogram.fit(rng.normal(0, 1, 50_000))
    assert len(reference.edges) == 9 and sum(reference.shares) == pytest.approx(1.0)
    assert reference.psi(rng.normal(0, 1, 5_000)) < 0.01
    assert 0.1 < reference.psi(rng.normal(0.5, 1, 5_000)) < 0.5
    assert reference.psi(rng.normal(3, 1, 5_000)) > 2


def test_discrete_features_get_a_bin_per_value_and_ignore_nan():
    one_hot = Histogram.fit(rng.binomial(1, 0.3, 10_000).astype(float))
    assert one_hot.edges == [0.0, 1.0]  # below 0 (empty), 0, 1
    assert one_hot.shares == pytest.approx([0.0, 0.7, 0.3], abs=0.02)
    flipped = rng.binomial(1, 0.7, 5_000).astype(float)
    assert one_hot.psi(flipped) > 0.5
    noisy = np.concatenate([rng.binomial(1, 0.3, 5_000), [np.nan, np.inf]]).astype(float)
    assert one_hot.psi(noisy) < 0.01


def test_compare_names_drifted_features_and_needs_enough_rows():
    X = rng.normal(0, 1, (20_000, 3))
    scores = rng.uniform(0, 1, 20_000)
    reference = Reference.fit(["a", "b", "c"], X, scores, threshold=0.9)
    assert reference.alert_rate == pytest.approx(0.1, abs=0.01)
    restored = Reference.from_dict(json.loads(json.dumps(reference.to_dict())))
    now = rng.normal(0, 1, (3_000, 3))
    now[:, 1] += 2.0
    report = compare(
        restored,
        "anomaly",
        "4",
        now,
        rng.uniform(0.3, 1, 3_000),
        None,
        threshold=0.2,
        min_rows=500,
    )
    assert report.alarm and report.drifted == ["b", "score"]
    assert report.psi["a"] < 0.05 and report.psi["b"] > 1
    assert "b " in report.summary() and report.to_dict()["alarm"] is True
    few = compare(
        restored, "anomaly", "4", now[:100], scores[:100], None, threshold=0.2, min_rows=500
    )
    assert not few.alarm and few.score_psi is None and "fewer than 500" in few.summary()
    calm = compare(
        restored,
        "anomaly",
        "4",
        rng.normal(0, 1, (3_000, 3)),
        np.array([]),
        None,
        threshold=0.2,
        min_rows=500,
    )
    assert not calm.alarm and calm.summary().startswith("stable")
