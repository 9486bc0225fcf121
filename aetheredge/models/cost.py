"""Random Forest cost regressor."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from aetheredge.models.base import ForestModel
from aetheredge.models.evaluation import regression_metrics

if TYPE_CHECKING:
    from aetheredge.models.base import Nodes


class CostModel(ForestModel):
    """Predicts the billed cost (USD) of a usage row.

    Cloud bills are products of usage and unit prices, so errors are relative: with
    ``log_target`` the forest learns ``log1p(cost)`` and predictions are mapped back
    with ``expm1``, which weights a 10% miss on a $5 row like one on a $5,000 row.
    ``max_samples`` is the fraction of the training rows each tree draws, and
    ``max_tree_rows`` caps that count, so that a fit's time grows linearly with the
    rows rather than as n log n. The cap costs a little hold-out error: at 1M rows,
    200k rows a tree instead of 300k gave 2% more MAE (MAPE unchanged) in two thirds of
    the time (``benchmarks/tree_rows.py``); ``None`` lifts it.
    Other parameters follow :class:`sklearn.ensemble.RandomForestRegressor`.
    """

    kind: ClassVar = "cost"
    # Versions pickled before the cap existed had none: they load with this default.
    max_tree_rows: int | None = None

    def __init__(
        self,
        n_estimators: int = 100,
        max_depth: int | None = 14,
        min_samples_leaf: int = 2,
        max_features: float = 0.5,
        max_samples: float | None = 0.3,
        max_tree_rows: int | None = 200_000,
        log_target: bool = True,
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.max_samples = max_samples
        self.max_tree_rows = max_tree_rows
        self.log_target = log_target
        self.random_state = random_state
        self.n_jobs = n_jobs

    def make_forest(
        self, n_estimators: int, random_state: int | None, rows: int, data_fraction: float = 1.0
    ) -> RandomForestRegressor:
        return RandomForestRegressor(
            n_estimators=n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            max_samples=self.tree_rows(rows, data_fraction),
            random_state=random_state,
            n_jobs=self.n_jobs,
        )

    def tree_rows(self, rows: int, data_fraction: float = 1.0) -> int:
        """Rows each tree draws from ``rows`` rows that are ``data_fraction`` of the
        training data: ``max_samples`` of the whole data, at most ``max_tree_rows``, and
        at most the ``rows`` at hand."""
        total = rows / data_fraction
        drawn = total if self.max_samples is None else self.max_samples * total
        if self.max_tree_rows is not None:
            drawn = min(drawn, self.max_tree_rows)
        return max(1, min(rows, round(drawn)))

    def encode_target(self, y: np.ndarray | None) -> np.ndarray:
        if y is None:
            raise ValueError("CostModel needs the billed cost as y")
        y = np.asarray(y, dtype=np.float64)
        return np.log1p(y) if self.log_target else y

    def adopt(self, forest: RandomForestRegressor, X: np.ndarray, y: np.ndarray | None = None):
        self.forest_ = forest
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted cost in USD, never negative."""
        raw = self.forest_.predict(X)
        return np.maximum(np.expm1(raw) if self.log_target else raw, 0.0)

    output = predict

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return regression_metrics(y, self.predict(X))

    def graph_head(self, nodes: Nodes) -> None:
        """``max(expm1(m), 0)``, or ``max(m, 0)`` without ``log_target``."""
        nodes.double("zero", 0.0)
        nodes.column("m", 0)
        if self.log_target:
            nodes.double("one", 1.0)
            nodes.op("Exp", ["m"], ["em"])
            nodes.op("Sub", ["em", "one"], ["v"])
        else:
            nodes.op("Identity", ["m"], ["v"])
        nodes.op("Max", ["v", "zero"], ["y"])
