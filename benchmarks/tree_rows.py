"""Random Forest hold-out error and fit time against the cap on rows per tree.

Chooses ``CostModel.max_tree_rows`` by measurement: for each training-row count, the
cost model is fitted in this process (n_jobs=<cpus>) with each cap, and with no cap
(each tree then draws ``max_samples`` of all rows) as the baseline of the same run.
Prints seconds, hold-out MAE, MAPE and R², each against the uncapped fit.

    python -m benchmarks.tree_rows --rows 1000000 --caps 200000 100000 50000 25000
"""

from __future__ import annotations

import argparse
import os
import time

from aetheredge.models import CostModel
from benchmarks.report import save, show
from benchmarks.train_scaling import training_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--caps", type=int, nargs="+", default=[200_000, 100_000, 50_000, 25_000])
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    records = []
    for rows in args.rows:
        data = training_split("cost", rows)
        for cap in [None, *args.caps]:
            model = CostModel(max_tree_rows=cap, random_state=0, n_jobs=cpus)
            started = time.perf_counter()
            model.fit(data.X_train, data.y_train)
            seconds = time.perf_counter() - started
            metrics = model.evaluate(data.X_holdout, data.y_holdout)
            drawn = model.tree_rows(len(data.X_train))
            records.append(
                {
                    "rows": len(data.X_train),
                    "cap": cap,
                    "tree_rows": drawn,
                    "seconds": seconds,
                    **metrics,
                }
            )
            print(f"{len(data.X_train):,} rows, cap {cap}: {seconds:.1f} s, {metrics}", flush=True)
    table = []
    for r in records:
        base = next(b for b in records if b["rows"] == r["rows"] and b["cap"] is None)
        table.append(
            [
                f"{r['rows']:,}",
                "none" if r["cap"] is None else f"{r['cap']:,}",
                f"{r['tree_rows']:,}",
                f"{r['seconds']:.1f}",
                f"{r['seconds'] / base['seconds']:.2f}x",
                f"{r['mae']:.4f}",
                f"{r['mae'] / base['mae'] - 1:+.2%}",
                f"{r['mape']:.4f}",
                f"{r['r2']:.5f}",
            ]
        )
    columns = [
        "train rows",
        "cap",
        "rows per tree",
        "seconds",
        "time vs no cap",
        "MAE",
        "MAE vs no cap",
        "MAPE",
        "R²",
    ]
    show(f"Cost forest against its per-tree row cap (n_jobs={cpus})", columns, table)
    save("tree_rows", {"records": records})


if __name__ == "__main__":
    main()
