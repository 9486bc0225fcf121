"""Anomaly detection on real CloudWatch telemetry: the NAB corpus, NAB's scoring.

Every detector sees each series as a stream: it learns from the probationary period
(NAB's first 15%) and flags each later row from that row and the rows before it only.
Per series and overall it reports the NAB score under the three application profiles
(null detector 0, perfect 100), window recall, and false alerts per day. It writes the
figures as JSON and a plot per series (values, windows, flags) under
benchmarks/results/.

Detectors in this run: the null detector (never flags) and the rolling 3-sigma
baseline (a row more than 3 standard deviations from the trailing day's mean).

    python -m benchmarks.nab_eval --data-dir ../shared/data/nab
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.nab import (
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
from benchmarks.report import RESULTS, save, show

Detector = Callable[[Series], np.ndarray]  # a series -> one flag per row


def null_detector(series: Series) -> np.ndarray:
    """Never flags: NAB's zero."""
    return np.zeros(len(series.values), dtype=bool)


def three_sigma(series: Series, window: int = 288, k: float = 3.0) -> np.ndarray:
    """Flags a row more than ``k`` standard deviations from the mean of the ``window``
    rows before it (288 five-minute rows: a day). No row sees itself or the future."""
    past = pd.Series(series.values).shift(1).rolling(window, min_periods=window // 4)
    mean, std = past.mean().to_numpy(), past.std().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(series.values - mean) / std
    return np.nan_to_num(z, nan=0.0, posinf=np.inf) > k


DETECTORS: dict[str, Detector] = {"null": null_detector, "3-sigma": three_sigma}


def evaluate(corpus: list[Series], flagged: list[np.ndarray]) -> dict:
    """One detector's flags (one array per series) over the corpus: per series and
    overall figures. Flags in a series' probationary period do not count. A series
    without windows has a raw score (its false positives) but no normalised one."""
    per_series, raw = [], {p.name: 0.0 for p in PROFILES}
    found = windows = alerts = 0
    days = 0.0
    for series, flags in zip(corpus, flagged, strict=True):
        flags = flags.copy()
        flags[: series.probation] = False
        row = {"series": series.name}
        for profile in PROFILES:
            score = raw_score(flags, sweep(series, profile), len(series.windows), profile)
            raw[profile.name] += score
            row[profile.name] = normalized(score, [series], profile) if series.windows else None
            row[f"{profile.name}_raw"] = score
        hit, total = window_recall(flags, series)
        false = false_alerts(flags, series)
        row |= {
            "windows_found": hit,
            "windows": total,
            "false_alerts_per_day": false / series.scored_days,
        }
        per_series.append(row)
        found, windows, alerts, days = (
            found + hit,
            windows + total,
            alerts + false,
            days + series.scored_days,
        )
    overall = {p.name: normalized(raw[p.name], corpus, p) for p in PROFILES}
    overall |= {"window_recall": found / windows, "false_alerts_per_day": alerts / days}
    return {"overall": overall, "series": per_series}


def _plot(series: Series, flags: dict[str, np.ndarray], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(12, 3.5))
    axis.plot(series.timestamps, series.values, lw=0.6, color="0.3", label="value")
    for left, right in series.windows:
        axis.axvspan(series.timestamps[left], series.timestamps[right], color="tab:red", alpha=0.15)
    axis.axvline(series.timestamps[series.probation], color="0.5", ls=":", label="probation ends")
    for (name, marks), color in zip(
        flags.items(), ("tab:blue", "tab:orange", "tab:green"), strict=False
    ):
        rows = np.flatnonzero(marks)
        axis.plot(series.timestamps[rows], series.values[rows], "|", ms=12, color=color, label=name)
    axis.set_title(series.name)
    axis.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args()
    corpus = load_corpus(args.data_dir)
    results, flags = {}, {}
    for name, detect in DETECTORS.items():
        started = time.perf_counter()
        flags[name] = [detect(series) for series in corpus]
        seconds = time.perf_counter() - started
        results[name] = evaluate(corpus, flags[name]) | {"detect_seconds": seconds}
    rows = [
        [
            name,
            *(f"{r['overall'][p.name]:.1f}" for p in PROFILES),
            f"{r['overall']['window_recall']:.2f}",
            f"{r['overall']['false_alerts_per_day']:.2f}",
        ]
        for name, r in results.items()
    ]
    show(
        f"NAB: {len(corpus)} series, {sum(len(s.windows) for s in corpus)} windows",
        ["detector", *(p.name for p in PROFILES), "window recall", "false alerts/day"],
        rows,
    )
    out = save("nab_eval", {"data_dir": str(args.data_dir), "results": results})
    if not args.no_plots:
        folder = RESULTS / out.stem
        folder.mkdir(exist_ok=True)
        for i, series in enumerate(corpus):
            marks = {name: f[i] for name, f in flags.items() if name != "null"}
            _plot(series, marks, folder / f"{Path(series.name).stem}.png")
        print(f"wrote {len(corpus)} plots under {folder}")


if __name__ == "__main__":
    main()
