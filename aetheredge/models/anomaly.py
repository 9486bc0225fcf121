"""Isolation Forest anomaly detector with a calibrated alert threshold.

Rows come with or without an entity baseline (the derived z-score columns; all zero
when the entity is unknown, anonymous or still warming up). One forest cannot serve
both well: trained on rows with z-scores, it finds rows without them unusually
ordinary and flags almost none. So the detector holds a :class:`PairedForest`: an
*inputs* forest grown with the z-scores blanked (its trees never split on them) and a
*context* forest grown on everything. A row with a baseline is scored by the context
trees, a row without one by the inputs trees, each calibrated on its own rows, and the
inputs score is mapped onto the context score's scale (a power, monotone, so rankings
stay) so that one threshold flags both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from sklearn.ensemble import IsolationForest

from aetheredge.kinds.anomaly import ANOMALY_FEATURES
from aetheredge.models.base import ForestModel
from aetheredge.models.evaluation import anomaly_metrics
from aetheredge.models.flags import flag
from aetheredge.models.forest import merge_forests

if TYPE_CHECKING:
    from aetheredge.models.base import Nodes

INPUTS = len(ANOMALY_FEATURES)  # leading columns; any after them are derived z-scores


def average_path_length(n: np.ndarray) -> np.ndarray:
    """``c(n)``: the mean path length of an unsuccessful BST search among ``n`` points."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def depths(children_left: np.ndarray, children_right: np.ndarray) -> np.ndarray:
    """Each node's depth in a fitted tree (children always follow their parent)."""
    depth = np.zeros(len(children_left), dtype=np.int64)
    for node in range(len(children_left)):
        for child in (children_left[node], children_right[node]):
            if child >= 0:
                depth[child] = depth[node] + 1
    return depth


def has_baseline(X: np.ndarray) -> np.ndarray:
    """Rows whose derived columns carry a baseline (any non-zero z-score)."""
    if X.shape[1] <= INPUTS:
        return np.zeros(len(X), dtype=bool)
    return np.any(X[:, INPUTS:] != 0, axis=1)


def blank_context(X: np.ndarray) -> np.ndarray:
    """``X`` with its derived columns zeroed, as rows without a baseline look."""
    out = np.array(X, copy=True)
    out[:, INPUTS:] = 0
    return out


class PairedForest:
    """Two Isolation Forests over the same columns: ``inputs`` (derived columns blanked
    while growing) and ``context`` (all columns). Fits, merges and counts like one."""

    def __init__(self, inputs: IsolationForest | None, context: IsolationForest) -> None:
        self.inputs = inputs
        self.context = context

    @property
    def groups(self) -> list[IsolationForest]:
        return [f for f in (self.inputs, self.context) if f is not None]

    def fit(self, X: np.ndarray, y: Any = None) -> PairedForest:
        if self.inputs is not None:
            self.inputs.fit(blank_context(X))
        self.context.fit(X)
        return self

    @property
    def estimators_(self) -> list:
        return [tree for forest in self.groups for tree in forest.estimators_]

    @property
    def n_features_in_(self) -> int:
        return self.context.n_features_in_

    @property
    def max_samples_(self) -> int:
        return self.context.max_samples_

    @classmethod
    def merge_shares(cls, shares: Sequence[PairedForest]) -> PairedForest:
        inputs = [s.inputs for s in shares if s.inputs is not None]
        return cls(
            merge_forests(inputs) if inputs else None, merge_forests([s.context for s in shares])
        )


class AnomalyDetector(ForestModel):
    """Scores telemetry rows in (0, 1]; flags rows scoring at or above ``threshold_``.

    The score is Liu et al.'s ``2 ** (-E[h(x)] / c(psi))``: about 0.5 for ordinary rows,
    near 1 for rows isolated in few splits. The threshold is calibrated on the
    training data as its ``1 - contamination`` quantile, so about ``contamination`` of
    rows like the training data raise a flag; the calibration is stored in
    ``calibration_`` and travels with the pickled model.

    Parameters follow :class:`sklearn.ensemble.IsolationForest`; ``calibration_rows``
    bounds how many training rows are scored to calibrate.
    """

    kind: ClassVar = "anomaly"

    def __init__(
        self,
        n_estimators: int = 200,
        max_samples: int = 256,
        contamination: float = 0.02,
        calibration_rows: int = 200_000,
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.calibration_rows = calibration_rows
        self.random_state = random_state
        self.n_jobs = n_jobs

    def make_forest(
        self, n_estimators: int, random_state: int | None, rows: int, data_fraction: float = 1.0
    ) -> PairedForest:
        """``n_estimators`` trees, half of them (rounded down) in the inputs forest."""

        def forest(trees: int, seed: int | None) -> IsolationForest:
            # max_samples is a row count per tree, already independent of the shard size.
            return IsolationForest(
                n_estimators=trees,
                max_samples=min(self.max_samples, rows),
                random_state=seed,
                n_jobs=self.n_jobs,
            )

        inputs = n_estimators // 2
        seed = None if random_state is None else random_state + 1
        return PairedForest(
            forest(inputs, seed) if inputs else None, forest(n_estimators - inputs, random_state)
        )

    def adopt(self, forest: PairedForest, X: np.ndarray, y: np.ndarray | None = None):
        if forest.inputs is None:
            raise ValueError("the inputs forest has no trees: use at least 2 estimators")
        self.forest_ = forest
        self.exponent_ = 1.0
        rng = np.random.default_rng(self.random_state)
        sample = (
            X
            if len(X) <= self.calibration_rows
            else X[rng.choice(len(X), self.calibration_rows, replace=False)]
        )
        quantile = 1.0 - self.contamination
        context = sample[has_baseline(sample)]
        inputs_scores = self._group_scores(forest.inputs, blank_context(sample))
        context_scores = (
            self._group_scores(forest.context, context) if len(context) else inputs_scores
        )
        self.threshold_ = float(np.quantile(context_scores, quantile))
        inputs_threshold = float(np.quantile(inputs_scores, quantile))
        self.exponent_ = float(np.log(self.threshold_) / np.log(inputs_threshold))
        self.calibration_ = {
            "method": "train-quantile per forest",
            "quantile": quantile,
            "rows": len(sample),
            "context_rows": len(context),
            "threshold": self.threshold_,
            "inputs_threshold": inputs_threshold,
            "inputs_exponent": self.exponent_,
        }
        return self

    @staticmethod
    def _group_scores(forest: IsolationForest, X: np.ndarray) -> np.ndarray:
        return -forest.score_samples(X)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score per row, higher is more anomalous.

        Rows with a baseline get the context forest's score; rows without one the
        inputs forest's, raised to ``exponent_`` so both share ``threshold_``.
        """
        if isinstance(self.forest_, IsolationForest):  # a version from before baselines
            return self._group_scores(self.forest_, X[:, : self.forest_.n_features_in_])
        context = has_baseline(X)
        out = np.empty(len(X))
        if context.any():
            out[context] = self._group_scores(self.forest_.context, X[context])
        if not context.all():
            rows = ~context
            out[rows] = self._group_scores(self.forest_.inputs, X[rows]) ** self.exponent_
        return out

    output = score_samples

    def flag(self, scores: np.ndarray) -> np.ndarray:
        """Which of these anomaly scores raise a flag (at or above the threshold)."""
        return flag(scores, self.threshold_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 where the row is flagged anomalous, else 0."""
        return self.flag(self.score_samples(X)).astype(np.int8)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Hold-out metrics as the rows come, plus F1 and ROC-AUC of the same rows scored
        without baselines (``*_no_baseline``), as anonymous requests are."""
        metrics = anomaly_metrics(y, self.score_samples(X), self.threshold_)
        anonymous = anomaly_metrics(y, self.score_samples(blank_context(X)), self.threshold_)
        return metrics | {f"{k}_no_baseline": anonymous[k] for k in ("f1", "roc_auc")}

    def summary(self) -> dict[str, Any]:
        return super().summary() | {"threshold": self.threshold_}

    def leaf_values(self, tree: Any) -> np.ndarray:
        """The path length to each node: its depth plus ``c(samples in it)``."""
        return depths(tree.children_left, tree.children_right) + average_path_length(
            tree.n_node_samples
        )

    def graph_head(self, nodes: Nodes) -> None:
        """``2 ** (-m / c(psi))`` per group, picked per row by whether it has a baseline."""
        c = float(average_path_length(np.array([self.forest_.max_samples_]))[0])
        n_features = int(self.forest_.n_features_in_)
        nodes.double("neg_inv_c", -1.0 / c)
        nodes.double("two", 2.0)
        nodes.double("exponent", self.exponent_)
        nodes.column("m_in", 0)
        nodes.column("m_ctx", 1)
        nodes.op("Mul", ["m_in", "neg_inv_c"], ["e_in"])
        nodes.op("Pow", ["two", "e_in"], ["s_in"])
        nodes.op("Pow", ["s_in", "exponent"], ["y_in"])
        if n_features <= INPUTS:
            nodes.op("Identity", ["y_in"], ["y"])
            return
        nodes.int64s("z_from", [INPUTS])
        nodes.int64s("z_to", [n_features])
        nodes.int64s("z_axis", [1])
        nodes.op("Mul", ["m_ctx", "neg_inv_c"], ["e_ctx"])
        nodes.op("Pow", ["two", "e_ctx"], ["y_ctx"])
        nodes.op("Slice", ["X", "z_from", "z_to", "z_axis"], ["z"])
        nodes.op("Abs", ["z"], ["z_abs"])
        nodes.op("ReduceMax", ["z_abs"], ["z_max"], axes=[1], keepdims=0)
        nodes.float32("zero32", 0.0)
        nodes.op("Greater", ["z_max", "zero32"], ["has_baseline"])
        nodes.op("Where", ["has_baseline", "y_ctx", "y_in"], ["y"])

    def graph_metadata(self) -> dict[str, str]:
        return {"threshold": repr(self.threshold_)}

    def check_rows(self, sample: np.ndarray) -> list[np.ndarray]:
        """The sample without baselines too: the graph routes those rows to other trees."""
        return [blank_context(sample)]
