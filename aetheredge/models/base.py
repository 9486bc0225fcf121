"""The shared shape of AetherEdge's two tree-ensemble models."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar, Protocol

import numpy as np
from sklearn.base import BaseEstimator

from aetheredge.kinds import ModelKind
from aetheredge.models.forest import Forest


class Nodes(Protocol):
    """Where a model declares its compiled output head (:class:`aetheredge.artifacts.onnx.Nodes`).

    The head reads the float64 group means ``m2`` (``[n, groups]``) and the input ``X``
    and writes the output ``y``; constants and operators are ONNX's.
    """

    def op(self, op_type: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None: ...

    def double(self, name: str, value: float) -> None: ...

    def float32(self, name: str, value: float) -> None: ...

    def int64s(self, name: str, values: list[int]) -> None: ...

    def column(self, name: str, index: int) -> None: ...


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

    def leaf_values(self, tree: Any) -> np.ndarray:
        """What the model averages per node of a fitted ``tree`` (the leaf mean here)."""
        return tree.value[:, 0, 0]

    @abstractmethod
    def graph_head(self, nodes: Nodes) -> None:
        """Declare the compiled graph's output transform: group means ``m2`` to ``y``."""

    def graph_metadata(self) -> dict[str, str]:
        """Learned state the compiled graph carries beside its trees."""
        return {}

    def check_rows(self, sample: np.ndarray) -> list[np.ndarray]:
        """Rows beyond ``sample`` that a compiled form must agree on before promotion."""
        return []
