"""Anomaly detection on real CloudWatch telemetry: the NAB corpus, NAB's scoring.

Every detector sees each series as a stream: it learns from the probationary period
(NAB's first 15%) and flags each later row from that row and the rows before it only.
Per series and overall it reports the NAB score under the three application profiles
(null detector 0, perfect 100), window recall, and false alerts per day. It writes the
figures as JSON and a plot per series (values, windows, flags) under
benchmarks/results/.

Detectors in this run:
  * the null detector (never flags) and the rolling 3-sigma baseline (a row more than 3
    standard deviations from the trailing day's mean);
  * AetherEdge's anomaly model as the service runs it (:class:`ForestDetector`): each
    series becomes the service metric it measures, encoded by
    :mod:`aetheredge.kinds.anomaly` with its z-score against the entity's EWMA baseline
    (:mod:`aetheredge.features.baselines`, what the online path keeps in Redis); an
    ``AnomalyDetector`` is fitted on the probationary rows, calibrates its threshold
    there, and flags later rows with the service's rule. Flags become alerts with a
    hold: a flag opens an alert unless one opened in the ``hold`` rows before it.

The forest is random, so each forest configuration runs with several seeds and reports
their mean and spread. Besides the chosen configuration, the run measures the
alternatives it was chosen from: the contamination (threshold) and hold grid, and each
candidate stream feature group of :mod:`evaluation.stream_features`. One configuration
serves every series; nothing is tuned per series.

    python -m evaluation.nab_eval --data-dir ../shared/data/nab
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from aetheredge.features.baselines import derive
from aetheredge.kinds.anomaly import ANOMALY_FEATURES, ANOMALY_NUMERIC
from aetheredge.kinds.anomaly import KIND as ANOMALY
from aetheredge.models import AnomalyDetector
from aetheredge.models.flags import flag
from benchmarks.report import RESULTS, save, show
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
from evaluation.stream_features import GROUPS, stream_features

Detector = Callable[[Series], np.ndarray]  # a series -> one flag per row
SEEDS = range(5)
# Which service metric a series measures (by a part of its name), the factor from its
# CloudWatch unit, and whether that is a total over the sampling interval (a count).
METRICS = (
    ("cpu", "cpu_util", 0.01, False),  # percent
    ("grok_asg", "cpu_util", 0.01, False),  # an autoscaling group's CPU, percent
    ("disk_write_bytes", "disk_io_mbps", 1e-6, True),  # bytes
    ("network", "net_in_mbps", 8e-6, True),  # bytes
    ("request_count", "request_rate", 1.0, True),  # requests
)


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


def metric_of(series: Series) -> tuple[str, float]:
    """The service metric ``series`` measures, and the factor to that metric's unit."""
    name = series.name.lower()
    for part, metric, factor, total in METRICS:
        if part in name:
            seconds = pd.Series(series.timestamps).diff().median().total_seconds()
            return metric, factor / seconds if total else factor
    raise ValueError(f"{series.name}: no service metric matches its name")


def telemetry(series: Series) -> tuple[pd.DataFrame, str]:
    """``series`` as the service's telemetry rows from one entity (its metric in the
    service's unit, every other metric at 0), and the name of that metric."""
    metric, factor = metric_of(series)
    spec = next(f for f in ANOMALY_NUMERIC if f.name == metric)
    frame = pd.DataFrame(0.0, index=range(len(series.values)), columns=list(ANOMALY_FEATURES))
    frame[metric] = np.clip(series.values * factor, spec.low, spec.high)
    frame["ts"] = series.timestamps
    frame["entity_id"] = series.name
    return frame, metric


def alerts(flags: np.ndarray, hold: int) -> np.ndarray:
    """One alert per incident: a flag opens an alert unless an alert opened in the
    ``hold`` rows before it (as a firing alert pages once per repeat interval)."""
    out = np.zeros_like(flags)
    last = -hold - 1
    for row in np.flatnonzero(flags):
        if row - last > hold:
            out[row], last = True, row
    return out


@dataclass(frozen=True)
class ForestDetector:
    """AetherEdge's anomaly model on one series, trained on its probationary rows.

    ``contamination`` sets the calibrated threshold (the share of training rows it
    flags); ``hold`` is the alert hold in rows (0: every flag alerts); ``groups`` adds
    candidate stream features to the service's.
    """

    contamination: float = 0.005
    hold: int = 144  # twelve hours of five-minute rows
    groups: tuple[str, ...] = ()
    seed: int = 0

    def __call__(self, series: Series) -> np.ndarray:
        frame, metric = telemetry(series)
        X = ANOMALY.encode(frame)
        column = X[:, ANOMALY_FEATURES.index(metric)].astype(np.float64)
        extra = stream_features(column, series.timestamps, self.groups)
        M = np.hstack([ANOMALY.model_input(X, derive(frame, X)), extra])
        model = AnomalyDetector(
            contamination=self.contamination,
            random_state=self.seed,
        ).fit(M[: series.probation])
        return alerts(flag(model.score_samples(M), model.threshold_), self.hold)


CHOSEN = ForestDetector()
BASELINES: dict[str, Detector] = {
    "null": null_detector,
    "3-sigma": three_sigma,
    f"3-sigma, alert hold {CHOSEN.hold}": lambda s: alerts(three_sigma(s), CHOSEN.hold),
}
FORESTS: dict[str, ForestDetector] = {
    "AetherEdge": CHOSEN,
    "AetherEdge, every flag alerts": replace(CHOSEN, hold=0),
}
# The alternatives the chosen configuration was picked from.
GRID = {
    f"contamination {c}, hold {h}": replace(CHOSEN, contamination=c, hold=h)
    for c in (0.005, 0.01, 0.02)
    for h in (36, 72, 144, 288)
}
ABLATION = {f"+ {g}": replace(CHOSEN, groups=(g,)) for g in GROUPS} | {
    "+ all groups": replace(CHOSEN, groups=tuple(GROUPS))
}


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


def _figures(result: dict) -> list[str]:
    overall = result["overall"]
    return [
        *(f"{overall[p.name]:.1f}" for p in PROFILES),
        f"{overall['window_recall']:.2f}",
        f"{overall['false_alerts_per_day']:.2f}",
    ]


def _seeded(corpus: list[Series], detector: ForestDetector) -> dict:
    """``detector`` evaluated with every seed: the mean, the spread, seed 0's flags."""
    started = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        marks = [
            list(pool.map(replace(detector, seed=seed), corpus, chunksize=4)) for seed in SEEDS
        ]
    seconds = (time.perf_counter() - started) / len(SEEDS)
    runs = [evaluate(corpus, flags) for flags in marks]
    keys = runs[0]["overall"]
    return {
        "overall": {k: float(np.mean([r["overall"][k] for r in runs])) for k in keys},
        "spread": {k: float(np.std([r["overall"][k] for r in runs])) for k in keys},
        "seeds": [r["overall"] for r in runs],
        "series": runs[0]["series"],
        "detect_seconds": seconds,
        "config": {
            "contamination": detector.contamination,
            "hold": detector.hold,
            "groups": list(detector.groups),
        },
        "flags": marks[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args()
    corpus = load_corpus(args.data_dir)
    results = {}
    for name, detect in BASELINES.items():
        started = time.perf_counter()
        flags = [detect(series) for series in corpus]
        seconds = time.perf_counter() - started
        results[name] = evaluate(corpus, flags) | {"detect_seconds": seconds, "flags": flags}
    for name, detector in FORESTS.items():
        results[name] = _seeded(corpus, detector)
    columns = [*(p.name for p in PROFILES), "window recall", "false alerts/day"]
    spread = f"spread of {len(SEEDS)} seeds"
    show(
        f"NAB: {len(corpus)} series, {sum(len(s.windows) for s in corpus)} windows",
        ["detector", *columns, f"standard: {spread}", "wall s"],
        [
            [
                name,
                *_figures(r),
                f"{r['spread']['standard']:.1f}" if "spread" in r else "-",
                f"{r['detect_seconds']:.2f}",
            ]
            for name, r in results.items()
        ],
    )
    baseline = results["3-sigma"]["overall"]["standard"]
    chosen = results["AetherEdge"]["overall"]["standard"]
    print(
        f"standard profile: AetherEdge {chosen:.1f} against 3-sigma {baseline:.1f}, "
        f"{(chosen - baseline) / abs(baseline):+.0%} of the baseline's magnitude"
    )
    choices = {}
    for title, configs in (("threshold and hold", GRID), ("stream feature groups", ABLATION)):
        choices[title] = {name: _seeded(corpus, d) for name, d in configs.items()}
        show(
            f"How the configuration was chosen: {title} (mean of {len(SEEDS)} seeds)",
            ["configuration", *columns, f"standard: {spread}"],
            [
                [name, *_figures(r), f"{r['spread']['standard']:.1f}"]
                for name, r in choices[title].items()
            ],
        )
    out = save(
        "nab_eval",
        {
            "data_dir": str(args.data_dir),
            "results": _without_flags(results),
            "choices": {t: _without_flags(c) for t, c in choices.items()},
        },
    )
    if not args.no_plots:
        folder = RESULTS / out.stem
        folder.mkdir(exist_ok=True)
        for i, series in enumerate(corpus):
            marks = {name: results[name]["flags"][i] for name in ("3-sigma", "AetherEdge")}
            _plot(series, marks, folder / f"{Path(series.name).stem}.png")
        print(f"wrote {len(corpus)} plots under {folder}")


def _without_flags(results: dict[str, dict]) -> dict[str, dict]:
    return {name: {k: v for k, v in r.items() if k != "flags"} for name, r in results.items()}


if __name__ == "__main__":
    main()
