"""Candidate features from one metric's stream, measured on NAB before any reaches the service.

Each group turns an entity's encoded metric column ``x`` (rows in time order) into
columns that use only the row itself and the rows before it, so a detector fed them
sees no future. They extend what the service already gives the model (the metric and
its z-score against the entity's EWMA baseline, :mod:`aetheredge.features.baselines`):

* ``horizons``: z-scores against EWMA baselines faster and slower than the service's
  (half-lives of about 7 and 170 rows), the rolling statistics at several horizons;
* ``rate``: the row-to-row change, as a z-score against its own EWMA baseline;
* ``daily``: the change since the same time the day before, as a z-score;
* ``time_of_day`` and ``day_of_week``: the row's place in each cycle, as sine and cosine.

``evaluation.nab_eval`` measures what each group adds; only measurement decides
whether one joins the online path.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from aetheredge.features.baselines import ALPHA, history, zscores

HORIZONS = (0.1, 0.004)  # EWMA weights beside the service's ALPHA (0.02)
Group = Callable[[np.ndarray, pd.DatetimeIndex], list[np.ndarray]]


def baseline_z(x: np.ndarray, alpha: float = ALPHA) -> np.ndarray:
    """z-scores of ``x`` against the EWMA baseline (weight ``alpha``) of the rows before."""
    column = x.reshape(-1, 1)
    return zscores(column, history(column, alpha)[0])[:, 0]


def _horizons(x: np.ndarray, _: pd.DatetimeIndex) -> list[np.ndarray]:
    return [baseline_z(x, alpha) for alpha in HORIZONS]


def _rate(x: np.ndarray, _: pd.DatetimeIndex) -> list[np.ndarray]:
    return [baseline_z(np.diff(x, prepend=x[0]))]


def _daily(x: np.ndarray, timestamps: pd.DatetimeIndex) -> list[np.ndarray]:
    step = pd.Series(timestamps).diff().median()
    lag = round(pd.Timedelta(days=1) / step)
    change = np.zeros_like(x)
    change[lag:] = x[lag:] - x[:-lag]
    return [baseline_z(change)]


def _cycle(phase: np.ndarray) -> list[np.ndarray]:
    angle = 2.0 * np.pi * phase
    return [np.sin(angle), np.cos(angle)]


def _time_of_day(_: np.ndarray, timestamps: pd.DatetimeIndex) -> list[np.ndarray]:
    return _cycle((timestamps.hour + timestamps.minute / 60.0).to_numpy() / 24.0)


def _day_of_week(_: np.ndarray, timestamps: pd.DatetimeIndex) -> list[np.ndarray]:
    return _cycle((timestamps.dayofweek + timestamps.hour / 24.0).to_numpy() / 7.0)


GROUPS: dict[str, Group] = {
    "horizons": _horizons,
    "rate": _rate,
    "daily": _daily,
    "time_of_day": _time_of_day,
    "day_of_week": _day_of_week,
}


def stream_features(
    x: np.ndarray, timestamps: pd.DatetimeIndex, groups: tuple[str, ...]
) -> np.ndarray:
    """The columns of ``groups`` for one entity's metric ``x``, as a float32 ``(n, k)``."""
    columns = [column for name in groups for column in GROUPS[name](x, timestamps)]
    return np.column_stack(columns).astype(np.float32) if columns else np.empty((len(x), 0))
