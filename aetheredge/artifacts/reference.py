"""Drift: how far recent inputs and scores have moved from what the champion learned on.

At registration each version stores a :class:`Reference` beside its model: for every
input feature the bin edges of its training distribution (deciles) and the share of
rows in each bin, and the same for the model's output on its hold-out. The drift job
bins a recent window of telemetry (or cost usage) and of the prediction log on those
edges and computes the Population Stability Index per feature and for the scores:

    PSI = sum((actual - expected) * ln(actual / expected))

Common reading: < 0.1 stable, 0.1 to 0.2 moderate, > 0.2 a shift worth retraining for.
Bins come from quantiles with duplicates merged, so a discrete feature (a one-hot
column, a category code) gets one bin per value instead of empty deciles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

BINS = 10
_EPSILON = 1e-4  # share given to an empty bin, so ln() stays finite


@dataclass(frozen=True)
class Histogram:
    """Inner bin edges and the share of reference rows in each of ``len(edges) + 1`` bins."""

    edges: list[float]
    shares: list[float]

    @classmethod
    def fit(cls, values: np.ndarray, bins: int = BINS) -> Histogram:
        values = values[np.isfinite(values)]
        inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]) if len(values) else []
        edges = np.unique(np.asarray(inner, dtype=np.float64))
        return cls(edges.tolist(), _shares(values, edges).tolist())

    def psi(self, values: np.ndarray) -> float:
        """Population Stability Index of ``values`` against this reference."""
        actual = _shares(values[np.isfinite(values)], np.asarray(self.edges))
        expected = np.asarray(self.shares)
        actual, expected = np.maximum(actual, _EPSILON), np.maximum(expected, _EPSILON)
        return float(np.sum((actual - expected) * np.log(actual / expected)))


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return counts / max(1, counts.sum())


@dataclass(frozen=True)
class Reference:
    """What a version saw in training: per-feature histograms and its score histogram."""

    features: dict[str, Histogram]
    scores: Histogram
    alert_rate: float | None = None  # anomaly: share of hold-out rows flagged

    @classmethod
    def fit(
        cls,
        names: Sequence[str],
        X: np.ndarray,
        scores: np.ndarray,
        threshold: float | None = None,
    ) -> Reference:
        """The reference of a model trained on ``X`` (inputs in ``names`` order)."""
        rate = None if threshold is None else float(np.mean(scores >= threshold))
        features = {name: Histogram.fit(X[:, i].astype(np.float64)) for i, name in enumerate(names)}
        return cls(features, Histogram.fit(scores.astype(np.float64)), rate)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        return cls(
            {k: Histogram(**v) for k, v in data["features"].items()},
            Histogram(**data["scores"]),
            data.get("alert_rate"),
        )


@dataclass(frozen=True)
class DriftReport:
    """One comparison of a window against a version's reference."""

    model: str
    version: str
    rows: int
    scored_rows: int
    threshold: float
    min_rows: int
    psi: dict[str, float]
    score_psi: float | None
    alert_rate: float | None
    reference_alert_rate: float | None
    drifted: list[str] = field(default_factory=list)

    @property
    def enough_data(self) -> bool:
        return self.rows >= self.min_rows

    @property
    def alarm(self) -> bool:
        return self.enough_data and bool(self.drifted)

    def summary(self) -> str:
        if not self.enough_data:
            return f"{self.rows} rows in the window, fewer than {self.min_rows}: no verdict"
        if not self.drifted:
            worst = max(self.psi.items(), key=lambda kv: kv[1])
            return f"stable: largest PSI {worst[1]:.3f} ({worst[0]}) < {self.threshold}"
        shown = ", ".join(f"{name} {self._psi(name):.3f}" for name in self.drifted)
        return f"drift over PSI {self.threshold}: {shown}"

    def _psi(self, name: str) -> float:
        return self.score_psi if name == "score" and self.score_psi is not None else self.psi[name]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"alarm": self.alarm, "summary": self.summary()}


def compare(
    reference: Reference,
    model: str,
    version: str,
    X: np.ndarray,
    scores: np.ndarray,
    flags: np.ndarray | None,
    *,
    threshold: float,
    min_rows: int,
) -> DriftReport:
    """PSI of each feature of ``X`` and of ``scores`` against ``reference``.

    The score shift counts only when at least ``min_rows`` scored rows exist.
    """
    names = list(reference.features)
    psi = {name: reference.features[name].psi(X[:, i]) for i, name in enumerate(names)}
    score_psi = reference.scores.psi(scores) if len(scores) >= min_rows else None
    drifted = [name for name, value in psi.items() if value > threshold]
    if score_psi is not None and score_psi > threshold:
        drifted.append("score")
    return DriftReport(
        model=model,
        version=version,
        rows=len(X),
        scored_rows=len(scores),
        threshold=threshold,
        min_rows=min_rows,
        psi=psi,
        score_psi=score_psi,
        alert_rate=float(np.mean(flags)) if flags is not None and len(flags) else None,
        reference_alert_rate=reference.alert_rate,
        drifted=drifted,
    )
