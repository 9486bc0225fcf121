"""Isolation Forest anomaly detector with a calibrated alert threshold."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.ensemble import IsolationForest

from aetheredge.alerts import flag
from aetheredge.models.base import ForestModel
from aetheredge.models.evaluation import anomaly_metrics


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
        self, n_estimators: int, random_state: int | None, data_fraction: float = 1.0
    ) -> IsolationForest:
        # max_samples is a row count per tree, already independent of the shard size.
        return IsolationForest(
            n_estimators=n_estimators,
            max_samples=self.max_samples,
            random_state=random_state,
            n_jobs=self.n_jobs,
        )

    def adopt(self, forest: IsolationForest, X: np.ndarray, y: np.ndarray | None = None):
        self.forest_ = forest
        rng = np.random.default_rng(self.random_state)
        sample = (
            X
            if len(X) <= self.calibration_rows
            else X[rng.choice(len(X), self.calibration_rows, replace=False)]
        )
        scores = self.score_samples(sample)
        self.threshold_ = float(np.quantile(scores, 1.0 - self.contamination))
        self.calibration_ = {
            "method": "train-quantile",
            "quantile": 1.0 - self.contamination,
            "rows": len(sample),
            "threshold": self.threshold_,
            "score_p50": float(np.quantile(scores, 0.5)),
            "score_p99": float(np.quantile(scores, 0.99)),
        }
        return self

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Anomaly score per row, higher is more anomalous."""
        return -self.forest_.score_samples(X)

    output = score_samples

    def flag(self, scores: np.ndarray) -> np.ndarray:
        """Which of these anomaly scores raise a flag (at or above the threshold)."""
        return flag(scores, self.threshold_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 where the row is flagged anomalous, else 0."""
        return self.flag(self.score_samples(X)).astype(np.int8)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return anomaly_metrics(y, self.score_samples(X), self.threshold_)

    def summary(self) -> dict[str, Any]:
        return super().summary() | {"threshold": self.threshold_}
