"""Ray Train retraining wall time against worker count, with single-process baselines.

For each model kind and row count, in one run on one machine:
  * baseline: scikit-learn ``fit`` of the same forest in this process (n_jobs=1, and
    n_jobs=<cpus> where the machine has more than one CPU);
  * Ray Train: ``train.distributed.fit_distributed`` with 1..N workers, timed end to end
    (worker-group start, data sharding, fits, checkpoint gather, merge).
Prints a table (speed-up and parallel efficiency against the n_jobs=1 fit) and writes
the figures as JSON under benchmarks/results/.

    python -m benchmarks.train_scaling --rows 200000 --kinds cost anomaly
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import ray

from aetheredge.data import load_frame, split
from aetheredge.models import build_model
from benchmarks.report import save
from benchmarks.report import show as show_table
from train.distributed import fit_distributed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000])
    parser.add_argument("--kinds", nargs="+", default=["cost", "anomaly"])
    parser.add_argument("--workers", type=int, nargs="+", default=None)
    parser.add_argument("--n-estimators", type=int, default=None)
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    workers = args.workers or sorted({1, 2, cpus})
    ray.init(
        address="local",
        num_cpus=cpus,
        object_store_memory=512 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
    )
    params = {} if args.n_estimators is None else {"n_estimators": args.n_estimators}
    records = []
    storage = Path(tempfile.mkdtemp(prefix="aetheredge-bench-"))
    for kind in args.kinds:
        for rows in args.rows:
            data = split(kind, load_frame(kind, rows=rows, seed=0))
            X, y = data.X_train, data.y_train
            runs = [("scikit-learn, n_jobs=1", 1, None)]
            if cpus > 1:
                runs.append((f"scikit-learn, n_jobs={cpus}", cpus, None))
            runs += [(f"Ray Train, {w} worker(s)", w, w) for w in workers]
            for label, parallel, ray_workers in runs:
                model = build_model(kind, random_state=0, **params)
                started = time.perf_counter()
                if ray_workers is None:
                    model.set_params(n_jobs=parallel).fit(X, y)
                else:
                    name = f"{kind}-{rows}-{ray_workers}"
                    fit_distributed(
                        model, X, y, num_workers=ray_workers, storage_path=storage, name=name
                    )
                seconds = time.perf_counter() - started
                metrics = model.evaluate(data.X_holdout, data.y_holdout)
                records.append(
                    {
                        "kind": kind,
                        "rows": len(X),
                        "method": label,
                        "parallel": parallel,
                        "seconds": seconds,
                        "metrics": metrics,
                    }
                )
    ray.shutdown()
    show(records)


def show(records: list[dict]) -> None:
    rows = []
    for r in records:
        base = next(b for b in records if b["kind"] == r["kind"] and b["rows"] == r["rows"])
        speedup = base["seconds"] / r["seconds"]
        key = "mae" if r["kind"] == "cost" else "f1"
        rows.append(
            [
                r["kind"],
                f"{r['rows']:,}",
                r["method"],
                f"{r['seconds']:.1f}",
                f"{speedup:.2f}x",
                f"{speedup / r['parallel']:.0%}",
                f"{key}={r['metrics'][key]:.4g}",
            ]
        )
    columns = ["model", "train rows", "method", "seconds", "speed-up", "efficiency", "hold-out"]
    show_table("Retraining wall time", columns, rows)
    save("train_scaling", {"records": records})


if __name__ == "__main__":
    main()
