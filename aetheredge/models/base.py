"""The shared shape of AetherEdge's two tree-ensemble models."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from aetheredge.kinds import ModelKind
from aetheredge.models.forest import Forest


class ForestModel(BaseEstimator):
    """A scikit-learn estimator wrapping one tree ensemble (``forest_``).

    ``fit`` grows the whole forest in this process. Distributed training instead calls
    :meth:`make_forest` and ``forest.fit(X, encode_target(y))`` on each worker for a
    share of the trees, merges the shares, and hands the result to :meth:`adopt`;
    both paths end in the same learned state.
    """

    kind: ClassVar[ModelKind]
    n_estimators: int
    random_state: int | None

    @abstractmethod
    def make_forest(
        self, n_estimators: int, random_state: int | None, rows: int, data_fraction: float = 1.0
    ) -> Forest:
        """An unfitted ensemble with this model's settings and ``n_estimators`` trees.

        It will be fitted on ``rows`` rows, ``data_fraction`` of the training data (a
        worker's shard); row sampling is rescaled so each tree draws as many rows as it
        would from the whole data.
        """

    def encode_target(self, y: np.ndarray | None) -> np.ndarray | None:
        """The target the forest is fitted on (identity unless overridden)."""
        return y

    @abstractmethod
    def adopt(self, forest: Forest, X: np.ndarray, y: np.ndarray | None = None) -> ForestModel:
        """Take a fitted forest as this model's ensemble; ``X``/``y`` are training data."""

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> ForestModel:
        forest = self.make_forest(self.n_estimators, self.random_state, rows=len(X))
        return self.adopt(forest.fit(X, self.encode_target(y)), X, y)

    @abstractmethod
    def output(self, X: np.ndarray) -> np.ndarray:
        """The number served per row: the anomaly score, or the predicted cost."""

    @abstractmethod
    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Hold-out metrics; see :mod:`aetheredge.models.evaluation`."""

    def summary(self) -> dict[str, Any]:
        """Learned state worth logging beside the parameters."""
        return {"n_trees": len(self.forest_.estimators_)}
