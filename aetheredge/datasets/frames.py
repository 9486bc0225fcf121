"""Training data: where it comes from, how it is checked, how it is split.

A *source* is ``synthetic`` (the seeded generators), ``postgres`` (the platform's
tables, a time window of them, read in parallel by Ray Data: :mod:`aetheredge.datasets.postgres`)
or a path to Parquet (a file or a directory of files) with the schema's columns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aetheredge import kinds
from aetheredge.datasets.policy import RetrainPolicy, Window
from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings

log = logging.getLogger(__name__)


class DataError(ValueError):
    """Training data that cannot be used, with the reason."""


@dataclass(frozen=True)
class Split:
    """Encoded train and hold-out matrices of one model kind."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_holdout: np.ndarray
    y_holdout: np.ndarray


def load_frame(
    kind: ModelKind,
    source: str = "synthetic",
    rows: int = 200_000,
    seed: int = 0,
    window: Window | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Rows for ``kind`` from ``source``; at most ``rows`` (the newest) of stored data.
    A kind with label bases is labelled by ``settings.cost_basis``."""
    spec = kinds.get(kind)
    basis = settings.cost_basis if settings is not None and spec.bases else None
    if source == "synthetic":
        frame = spec.generate(rows, seed=seed)
        return validate_frame(kind, spec.labelled(frame, basis)) if basis else frame
    if source == "postgres":
        from aetheredge.datasets.postgres import read_frame

        settings = settings or Settings()
        window = window or RetrainPolicy.of(settings).window()
        frame = read_frame(kind, settings, window.since, window.until, _read_tasks())
        if frame.empty:
            raise DataError(
                f"no {kind} rows in PostgreSQL between {window.since} and {window.until}"
            )
        return validate_frame(kind, spec.labelled(frame, basis)).sort_values("ts").tail(rows)
    path = Path(source)
    if not path.exists():
        raise DataError(
            f"data source {source!r} is not 'synthetic', 'postgres' or an existing path"
        )
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise DataError(f"cannot read Parquet from {source}: {exc}") from exc
    frame = validate_frame(kind, spec.labelled(frame, basis))
    return frame.sort_values("ts").tail(rows) if "ts" in frame else frame.tail(rows)


def _read_tasks() -> int:
    """Parallel reads: two per CPU of the cluster."""
    import ray

    return max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))


def validate_frame(kind: ModelKind, frame: pd.DataFrame) -> pd.DataFrame:
    """Drop rows with missing, non-finite or out-of-range values; fail on missing columns."""
    spec = kinds.get(kind)
    required = [f.name for f in spec.ranged] + [spec.target] + [c.name for c in spec.categorical]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{kind} data lacks column(s) {missing}")
    ok = np.ones(len(frame), dtype=bool)
    for ranged in spec.ranged:
        values = pd.to_numeric(frame[ranged.name], errors="coerce").to_numpy(dtype=float)
        ok &= np.isfinite(values) & (values >= ranged.low) & (values <= ranged.high)
    for cat in spec.categorical:
        ok &= cat.codes(frame[cat.name]) >= 0
    if not ok.all():
        log.warning("dropping %d of %d %s rows that break the schema", (~ok).sum(), len(ok), kind)
    if not ok.any():
        raise DataError(f"no valid {kind} rows")
    return frame[ok]


def holdout_mask(frame: pd.DataFrame, holdout_fraction: float = 0.2) -> np.ndarray:
    """True for the newest ``holdout_fraction`` of rows (by ``ts`` when present)."""
    if "ts" in frame:
        return (frame["ts"] > frame["ts"].quantile(1.0 - holdout_fraction)).to_numpy()
    return np.arange(len(frame)) >= round(len(frame) * (1.0 - holdout_fraction))


def split(kind: ModelKind, frame: pd.DataFrame, holdout_fraction: float = 0.2) -> Split:
    """Time-based split: the newest ``holdout_fraction`` of rows is held out."""
    late = holdout_mask(frame, holdout_fraction)
    if late.all() or not late.any():
        raise DataError("the hold-out split left one side empty; supply more rows")
    spec = kinds.get(kind)
    X = spec.model_matrix(frame)
    y = frame[spec.target].to_numpy()
    return Split(X[~late], y[~late], X[late], y[late])
