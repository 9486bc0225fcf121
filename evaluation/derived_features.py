"""What the entity baselines buy: the anomaly detector with and without derived features.

One run, one machine, the same synthetic fleet (labelled incidents), the same hold-out
(its newest 20%):
  * baseline: the previous detector, one Isolation Forest on the eight metrics alone;
  * AetherEdge: the paired detector (inputs + context forests) on the metrics plus the
    eight z-scores against each entity's EWMA baseline, scored on hold-out rows as they
    come (with baselines) and with the baselines blanked (anonymous rows, V2 requests).

Prints precision, recall, F1, ROC-AUC and alert rate, and F1 against the baseline.

    python -m evaluation.derived_features --rows 200000 --trees 200
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.ensemble import IsolationForest

from aetheredge.datasets.frames import load_frame, split
from aetheredge.models import build_model
from aetheredge.models.anomaly import INPUTS, blank_context
from aetheredge.models.evaluation import anomaly_metrics
from benchmarks.report import save, show

METRICS = ("precision", "recall", "f1", "roc_auc", "alert_rate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    records = []
    for seed in args.seeds:
        data = split("anomaly", load_frame("anomaly", rows=args.rows, seed=seed))
        # the previous detector: one forest of all the trees on the metrics, flagging
        # at the same training quantile
        single = IsolationForest(n_estimators=args.trees, max_samples=256, random_state=seed)
        single.fit(data.X_train[:, :INPUTS])
        paired = build_model("anomaly", n_estimators=args.trees, random_state=seed)
        paired.fit(data.X_train)
        train_scores = -single.score_samples(data.X_train[:, :INPUTS])
        runs = {
            "baseline: metrics only": (
                -single.score_samples(data.X_holdout[:, :INPUTS]),
                float(np.quantile(train_scores, 1.0 - paired.contamination)),
            ),
            "AetherEdge, rows with baselines": (
                paired.score_samples(data.X_holdout),
                paired.threshold_,
            ),
            "AetherEdge, anonymous rows": (
                paired.score_samples(blank_context(data.X_holdout)),
                paired.threshold_,
            ),
        }
        for name, (scores, threshold) in runs.items():
            metrics = anomaly_metrics(data.y_holdout, scores, threshold)
            records.append({"seed": seed, "detector": name, **metrics})
    names = list(dict.fromkeys(r["detector"] for r in records))

    def mean(name: str, metric: str) -> float:
        values = [r[metric] for r in records if r["detector"] == name]
        return sum(values) / len(values)

    base_f1 = mean(names[0], "f1")
    show(
        f"Anomaly detection with entity baselines: hold-out of {args.rows:,} synthetic rows, "
        f"{args.trees} trees, mean of seeds {args.seeds}",
        ["detector", *METRICS, "F1 x baseline"],
        [
            [name, *(f"{mean(name, m):.3f}" for m in METRICS), f"{mean(name, 'f1') / base_f1:.2f}x"]
            for name in names
        ],
    )
    save("derived_features", {"rows": args.rows, "trees": args.trees, "records": records})


if __name__ == "__main__":
    main()
