"""Tree-ensemble shares: build them on any worker, merge them into one estimator.

Ray Train workers each fit a *share* (a smaller forest of the same kind and settings)
on their data shard; :func:`merge_forests` concatenates the shares' trees into ONE
scikit-learn estimator. Because an ensemble's output is an average over its trees, the
merged estimator scores exactly like a forest that had grown those trees itself.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TypeVar

from sklearn.ensemble import IsolationForest, RandomForestRegressor

Forest = TypeVar("Forest", IsolationForest, RandomForestRegressor)

# Per-tree learned state that sklearn keeps in parallel lists beside ``estimators_``.
PER_TREE_ATTRS = (
    "estimators_",
    "estimators_features_",
    "_seeds",
    "_average_path_length_per_tree",
    "_decision_path_lengths",
)
# Learned state that every share must agree on for the union to be one model.
_SHARED = ("n_features_in_", "max_samples_", "_max_features", "_max_samples", "n_outputs_")


def share_sizes(n_estimators: int, n_shares: int) -> list[int]:
    """Split ``n_estimators`` trees over ``n_shares`` workers as evenly as possible."""
    if not 1 <= n_shares <= n_estimators:
        raise ValueError(f"cannot split {n_estimators} trees into {n_shares} shares")
    base, extra = divmod(n_estimators, n_shares)
    return [base + (i < extra) for i in range(n_shares)]


def merge_forests(shares: Sequence[Forest]) -> Forest:
    """One estimator holding every tree of ``shares``, in order."""
    if not shares:
        raise ValueError("no shares to merge")
    first = shares[0]
    if hasattr(type(first), "merge_shares"):  # a composite of forests merges its parts
        return type(first).merge_shares(shares)
    for share in shares[1:]:
        if type(share) is not type(first):
            raise TypeError(f"cannot merge {type(share).__name__} into {type(first).__name__}")
        for attr in _SHARED:
            if hasattr(first, attr) and getattr(share, attr) != getattr(first, attr):
                raise ValueError(f"shares disagree on {attr}; they are not one model")
    merged = copy.copy(first)
    for attr in PER_TREE_ATTRS:
        if hasattr(first, attr):
            parts = [getattr(s, attr) for s in shares]
            joined = [item for part in parts for item in part]
            setattr(merged, attr, tuple(joined) if isinstance(parts[0], tuple) else joined)
    merged.n_estimators = len(merged.estimators_)
    return merged
