"""Shares of a forest merge into ONE estimator that scores exactly like the whole forest."""

import copy

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest, RandomForestRegressor

from aetheredge.models.forest import PER_TREE_ATTRS, merge_forests, share_sizes

rng = np.random.default_rng(0)
X = rng.normal(size=(3000, 8)).astype(np.float32)
y = X[:, 0] * 2 + rng.normal(size=3000)


def split(forest, sizes):
    """Cut a fitted forest into shares holding consecutive runs of its trees."""
    shares, start = [], 0
    for size in sizes:
        share = copy.copy(forest)
        for attr in PER_TREE_ATTRS:
            if hasattr(forest, attr):
                setattr(share, attr, getattr(forest, attr)[start : start + size])
        share.n_estimators = size
        shares.append(share)
        start += size
    return shares


@pytest.mark.parametrize("sizes", [[50], [25, 25], [17, 17, 16]])
def test_isolation_forest_merge_is_exact(sizes):
    whole = IsolationForest(n_estimators=50, random_state=1).fit(X)
    merged = merge_forests(split(whole, sizes))
    assert isinstance(merged, IsolationForest) and merged.n_estimators == 50
    np.testing.assert_array_equal(merged.score_samples(X), whole.score_samples(X))


@pytest.mark.parametrize("sizes", [[20, 20], [7, 13, 20]])
def test_random_forest_merge_is_exact(sizes):
    whole = RandomForestRegressor(n_estimators=40, max_depth=8, random_state=1).fit(X, y)
    merged = merge_forests(split(whole, sizes))
    assert isinstance(merged, RandomForestRegressor) and len(merged.estimators_) == 40
    np.testing.assert_array_equal(merged.predict(X), whole.predict(X))


def test_independently_grown_shares_average_path_lengths():
    """Shares fitted apart (as Ray Train workers do) average per tree, weighted by size."""
    a = IsolationForest(n_estimators=30, max_samples=256, random_state=1).fit(X[:1500])
    b = IsolationForest(n_estimators=10, max_samples=256, random_state=2).fit(X[1500:])
    merged = merge_forests([a, b])
    # score = -2 ** (-mean_depth / c): recover each share's mean depth and reweight.
    depth = lambda s: -np.log2(-s)  # noqa: E731  (depth in units of c)
    expected = -(2 ** -((30 * depth(a.score_samples(X)) + 10 * depth(b.score_samples(X))) / 40))
    np.testing.assert_allclose(merged.score_samples(X), expected, rtol=1e-12)


def test_shares_that_are_not_one_model_are_refused():
    a = IsolationForest(n_estimators=5, max_samples=256, random_state=1).fit(X)
    b = IsolationForest(n_estimators=5, max_samples=128, random_state=1).fit(X)
    with pytest.raises(ValueError, match="max_samples_"):
        merge_forests([a, b])
    with pytest.raises(TypeError):
        merge_forests([a, RandomForestRegressor(n_estimators=2).fit(X, y)])


def test_share_sizes():
    assert share_sizes(100, 3) == [34, 33, 33]
    assert sum(share_sizes(7, 7)) == 7
    with pytest.raises(ValueError):
        share_sizes(2, 3)
