"""Derived anomaly features: how far each metric sits from the entity's own baseline.

A host at 80% CPU is normal if it always runs hot and alarming if it idles at 5%. So
besides the eight metrics, the anomaly model sees eight z-scores: each encoded metric
(see :mod:`aetheredge.features.encoding`) against an exponentially weighted moving mean and
variance (EWMA, weight :data:`ALPHA`) of that entity's *earlier* rows.

The recurrences (West's incremental EW variance), per metric, on each new row ``x``::

    d    = x - mean
    mean = ALPHA * x + DECAY * mean
    var  = (DECAY * ALPHA) * (d * d) + DECAY * var

starting from ``mean = x, var = 0`` on an entity's first row. Training computes them
offline over a frame (:func:`derive`); serving keeps them per entity in Redis, updated
by ingest with the same arithmetic in Lua (:mod:`aetheredge.stores.online`). Both turn a state
into z-scores with :func:`zscores`, and a test holds the two paths equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ALPHA = 0.02  # a baseline half-life of ~34 rows: about 3 hours at 5-minute intervals
DECAY = 1.0 - ALPHA
WARMUP = 12  # rows of history before an entity's z-scores count; zero until then
Z_CLIP = 20.0
VAR_FLOOR = 1e-6


@dataclass(frozen=True)
class Baselines:
    """Per-row EWMA state *before* each row: counts ``(n,)``, means and variances ``(n, 8)``."""

    count: np.ndarray
    mean: np.ndarray
    var: np.ndarray


def zscores(X: np.ndarray, baselines: Baselines) -> np.ndarray:
    """float32 z-scores of encoded rows ``X`` against their baselines (0 during warm-up)."""
    z = (X - baselines.mean) / np.sqrt(baselines.var + VAR_FLOOR)
    np.clip(z, -Z_CLIP, Z_CLIP, out=z)
    z[baselines.count < WARMUP] = 0.0
    return z.astype(np.float32)


def history(X: np.ndarray, alpha: float = ALPHA) -> tuple[Baselines, np.ndarray, np.ndarray]:
    """One entity's rows in time order: the state before each row, and the state after all.

    Returns ``(before, mean, var)``; ``mean``/``var`` are the state after the last row.
    ``alpha`` is the EWMA weight: the serving baseline's :data:`ALPHA` unless another
    horizon is asked for.
    """
    from scipy.signal import lfilter  # training-side only: replicas never import SciPy

    X = X.astype(np.float64)
    decay = 1.0 - alpha
    n, k = X.shape
    mean_after = np.empty_like(X)
    mean_after[0] = X[0]
    if n > 1:
        mean_after[1:] = lfilter([alpha], [1.0, -decay], X[1:], axis=0, zi=(decay * X[0])[None])[0]
    d = np.zeros_like(X)
    d[1:] = X[1:] - mean_after[:-1]
    var_after = lfilter([1.0], [1.0, -decay], (decay * alpha) * (d * d), axis=0)
    before = Baselines(
        count=np.arange(n),
        mean=np.vstack([np.zeros((1, k)), mean_after[:-1]]),
        var=np.vstack([np.zeros((1, k)), var_after[:-1]]),
    )
    return before, mean_after[-1], var_after[-1]


def derive(frame: pd.DataFrame, X: np.ndarray) -> np.ndarray:
    """Offline z-scores for every row of ``frame`` (any order), in ``frame``'s row order.

    Rows are grouped by ``entity_id`` and ordered by ``ts``; ``X`` is the frame's
    encoded inputs. A frame without ``entity_id``/``ts`` (or a
    row without an entity) gets zeros: no baseline, as when serving anonymous rows.
    """
    Z = np.zeros_like(X, dtype=np.float32)
    if "entity_id" not in frame or "ts" not in frame:
        return Z
    order = np.lexsort((frame["ts"].to_numpy(), frame["entity_id"].to_numpy(dtype=str)))
    ids = frame["entity_id"].to_numpy(dtype=object)[order]
    bounds = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    for rows in np.split(order, bounds):
        if frame["entity_id"].iat[rows[0]] is None:
            continue
        before, _, _ = history(X[rows])
        Z[rows] = zscores(X[rows], before)
    return Z
