"""NAB scoring (evaluation/nab.py) on hand-built series, and the shared corpus."""

import math

import numpy as np
import pandas as pd
import pytest

from evaluation.nab import (
    DEFAULT_DATA_DIR,
    PROFILES,
    Series,
    false_alerts,
    load_corpus,
    normalized,
    raw_score,
    sweep,
    window_recall,
)

STANDARD, LOW_FP, LOW_FN = PROFILES


def _sigmoid_reward(x: float) -> float:  # NAB's published curve, written out again
    return 2 / (1 + math.exp(5 * x)) - 1


def _series(windows=((40, 49),), n: int = 100) -> Series:
    times = pd.date_range("2026-01-01", periods=n, freq="5min")
    return Series("test/series.csv", times, np.zeros(n), windows)


def _flags(n: int, *rows: int) -> np.ndarray:
    flags = np.zeros(n, dtype=bool)
    flags[list(rows)] = True
    return flags


def _score(series: Series, profile, *rows: int) -> float:
    flags = _flags(len(series.values), *rows)
    return raw_score(flags, sweep(series, profile), len(series.windows), profile)


def test_null_and_perfect_detectors_bound_the_scale():
    series = _series()
    assert series.probation == 15
    for profile in PROFILES:
        null, perfect = _score(series, profile), _score(series, profile, 40)
        assert null == -profile.fn_weight and perfect == pytest.approx(profile.tp_weight)
        assert normalized(null, [series], profile) == 0.0
        assert normalized(perfect, [series], profile) == pytest.approx(100.0)


def test_detections_score_by_where_they_fall():
    series = _series()
    late = _sigmoid_reward(-1 / 10) / _sigmoid_reward(-1.0)  # last row of a 10-row window
    assert _score(series, STANDARD, 49) == pytest.approx(late)
    assert _score(series, STANDARD, 40, 45, 49) == pytest.approx(1.0)  # the earliest counts
    before = -1.0 + -0.11  # missed window, plus an FP with no window before it
    assert _score(series, STANDARD, 20) == pytest.approx(before)
    just_after = -1.0 + 0.11 * _sigmoid_reward(1 / 9)  # one row past a 10-row window
    assert _score(series, STANDARD, 50) == pytest.approx(just_after)
    far_after = -1.0 - 0.11  # more than three window widths past: a full FP
    assert _score(series, STANDARD, 90) == pytest.approx(far_after)
    assert _score(series, STANDARD, 5) == -1.0  # probation: free
    assert _score(series, LOW_FP, 20) == pytest.approx(-1.0 - 0.22)
    assert _score(series, LOW_FN) == -2.0


def test_windows_found_and_false_alerts_count_runs_after_probation():
    series = _series(windows=((40, 49), (70, 79)))
    flags = _flags(100, 5, 6, 20, 21, 22, 45, 60, 62)
    assert window_recall(flags, series) == (1, 2)
    assert false_alerts(flags, series) == 3  # 20-22 once, 60, 62; not 5-6 (probation)


@pytest.mark.skipif(not DEFAULT_DATA_DIR.is_dir(), reason=f"no NAB corpus at {DEFAULT_DATA_DIR}")
def test_the_shared_corpus_loads_with_its_windows():
    corpus = load_corpus(DEFAULT_DATA_DIR)
    assert len(corpus) == 17
    assert sum(len(s.windows) for s in corpus) > 17
    for series in corpus:
        assert series.timestamps.is_monotonic_increasing and np.isfinite(series.values).all()
        assert all(0 <= left <= right < len(series.values) for left, right in series.windows)
        assert series.scored_days > 1
