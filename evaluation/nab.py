"""The Numenta Anomaly Benchmark (NAB): its corpus layout and its scoring, from the
published definition (Lavin & Ahmad, 2015; ``nab/sweeper.py`` at numenta/NAB).

A corpus directory holds ``<category>/<series>.csv`` (``timestamp,value``) and
``labels/combined_windows.json`` (each series' anomaly windows, ``[start, end]``).

Scoring, per series and application profile:
  * the first 15% of a series (at most 750 rows) is probationary: detections there
    count for nothing;
  * a detection inside a window scores ``tp_weight`` scaled by a sigmoid of its place
    in the window (earlier is better: the window's first row scores exactly
    ``tp_weight``); only the window's best (earliest) detection counts;
  * a window with no detection costs ``fn_weight``;
  * a detection outside every window costs ``fp_weight`` times a sigmoid of its
    distance past the previous window (-1 when no window came before, or far after);
  * the corpus' raw score is the sum over series; the reported score is normalised so
    that the null detector (never detects) scores 0 and the perfect one (detects each
    window's first row) scores 100.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab"
PROBATION = 0.15
PROBATION_CAP_ROWS = 750  # NAB: 15% of 5,000 rows at most


@dataclass(frozen=True)
class Profile:
    """How much a true positive, a false positive and a missed window weigh."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILES = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


@dataclass(frozen=True)
class Series:
    """One labelled series: its values over time and its anomaly windows (row ranges,
    both ends included)."""

    name: str
    timestamps: pd.DatetimeIndex
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]

    @property
    def probation(self) -> int:
        """Rows at the start that only train a detector and are never scored."""
        return min(math.floor(PROBATION * len(self.values)), PROBATION_CAP_ROWS)

    @property
    def scored_days(self) -> float:
        """The span, in days, of the rows after the probationary period."""
        span = self.timestamps[-1] - self.timestamps[self.probation]
        return span / pd.Timedelta(days=1)


def load_corpus(data_dir: Path) -> list[Series]:
    """Every series that ``labels/combined_windows.json`` lists and ``data_dir`` holds."""
    windows = json.loads((data_dir / "labels" / "combined_windows.json").read_text())
    corpus = []
    for name, limits in sorted(windows.items()):
        path = data_dir / name
        if not path.is_file():
            continue
        frame = pd.read_csv(path, parse_dates=["timestamp"])
        times = pd.DatetimeIndex(frame["timestamp"])
        rows = tuple(
            (int(times.get_loc(pd.Timestamp(start))), int(times.get_loc(pd.Timestamp(end))))
            for start, end in limits
        )
        corpus.append(Series(name, times, frame["value"].to_numpy(np.float64), rows))
    if not corpus:
        raise FileNotFoundError(f"no labelled NAB series under {data_dir}")
    return corpus


def scaled_sigmoid(position: np.ndarray) -> np.ndarray:
    """NAB's reward curve: 2 * sigmoid(-5x) - 1, and -1 beyond three window widths past."""
    curve = 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0
    return np.where(position > 3.0, -1.0, curve)


MAX_TP = float(scaled_sigmoid(np.array(-1.0)))  # a detection on a window's first row


@dataclass(frozen=True)
class Sweep:
    """What a detection on each row of a series would score under one profile."""

    points: np.ndarray  # the score of a detection on each row (0 in probation)
    window: np.ndarray  # the window each row is in, -1 outside every window


def sweep(series: Series, profile: Profile) -> Sweep:
    """Each row's score as a detection, NAB's ``calcSweepScore``."""
    n = len(series.values)
    index = np.arange(n)
    points = np.full(n, -1.0 * profile.fp_weight)  # before any window: a plain FP
    window = np.full(n, -1)
    for w, (left, right) in enumerate(series.windows):
        width = right - left + 1
        inside = slice(left, right + 1)
        position = -(right - index[inside] + 1) / width
        points[inside] = scaled_sigmoid(position) * profile.tp_weight / MAX_TP
        window[inside] = w
        following = series.windows[w + 1][0] if w + 1 < len(series.windows) else n
        after = slice(right + 1, following)
        past = np.abs(right - index[after]) / max(width - 1, 1)
        points[after] = scaled_sigmoid(past) * profile.fp_weight
    points[: series.probation] = 0.0
    return Sweep(points, window)


def raw_score(flags: np.ndarray, swept: Sweep, n_windows: int, profile: Profile) -> float:
    """The NAB score of detections ``flags`` (one bool per row) on one series."""
    outside = flags & (swept.window < 0)
    total = float(swept.points[outside].sum())
    for w in range(n_windows):
        hits = swept.points[flags & (swept.window == w)]
        total += max(-profile.fn_weight, float(hits.max())) if hits.size else -profile.fn_weight
    return total


def bounds(corpus: list[Series], profile: Profile) -> tuple[float, float]:
    """The null detector's and the perfect detector's raw scores over ``corpus``."""
    null = -profile.fn_weight * sum(len(s.windows) for s in corpus)
    perfect = profile.tp_weight * sum(len(s.windows) for s in corpus)
    return null, perfect


def normalized(raw: float, corpus: list[Series], profile: Profile) -> float:
    """``raw`` (summed over ``corpus``) on NAB's scale: null detector 0, perfect 100."""
    null, perfect = bounds(corpus, profile)
    return 100.0 * (raw - null) / (perfect - null)


def window_recall(flags: np.ndarray, series: Series) -> tuple[int, int]:
    """(windows with a detection after probation, windows after probation)."""
    found = total = 0
    for left, right in series.windows:
        if right < series.probation:
            continue
        total += 1
        found += bool(flags[max(left, series.probation) : right + 1].any())
    return found, total


def false_alerts(flags: np.ndarray, series: Series) -> int:
    """Alerts (runs of consecutive flagged rows) that start outside every window, after
    the probationary period."""
    scored = np.zeros(len(flags), dtype=bool)
    scored[series.probation :] = flags[series.probation :]
    starts = scored & ~np.concatenate(([False], scored[:-1]))
    for left, right in series.windows:
        starts[left : right + 1] = False
    return int(starts.sum())
