"""Ray Train retraining wall time against worker count and rows, with single-process baselines.

For each model kind and training-row count, in one run on one machine:
  * baselines: scikit-learn ``fit`` of the same forest in this process, n_jobs=1 and
    n_jobs=<cpus>;
  * Ray Train: ``train.distributed.fit_distributed`` with each worker count, timed end
    to end (worker-group start, data hand-off, fits, checkpoint gather, merge,
    calibration);
  * Ray Train's own fixed cost: a ``DataParallelTrainer`` whose workers do nothing, with
    the same worker count, so that a fit's overhead over its baseline splits into what
    Ray Train costs with no work and what the data and the merge add.
Every method runs ``--repeats`` times, interleaved (each pass runs every method once),
and the table gives medians and ranges; ratios pair runs of the same pass. Every run
records its peak memory: this process and all it started (Ray's processes
included), proportional set size, so the shared object store counts once. Prints the
table (speed-up and parallel efficiency against n_jobs=1, and each Ray fit against
n_jobs=<cpus>), how time grows with rows, and writes the figures as JSON under
benchmarks/results/.

    python -m benchmarks.train_scaling --rows 100000 1000000 5000000 --repeats 3
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import ray
from ray.train import RunConfig, ScalingConfig
from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

from aetheredge.datasets.frames import Split, load_frame, split
from aetheredge.kinds import ModelKind
from aetheredge.models import build_model
from aetheredge.settings import Settings
from benchmarks.memory import PeakMemory
from benchmarks.report import save
from benchmarks.report import show as show_table
from train.distributed import fit_distributed, polling

HOLDOUT = 0.2  # aetheredge.datasets.frames.split's default


def training_split(kind: ModelKind, rows: int) -> Split:
    """Synthetic data split by time so that the training side holds about ``rows``."""
    return split(kind, load_frame(kind, rows=math.ceil(rows / (1 - HOLDOUT)), seed=0))


def _idle() -> None:
    """A worker that does nothing: what remains is Ray Train's own cost. (Run as
    ``python -m``, this module is ``__main__`` and the function travels by value, so the
    workers import none of AetherEdge.)"""


def no_op_fit(workers: int, storage: Path, name: str, poll_s: float) -> float:
    """Seconds a ``DataParallelTrainer.fit()`` takes when its workers do nothing."""
    trainer = DataParallelTrainer(
        _idle,
        scaling_config=ScalingConfig(num_workers=workers),
        run_config=RunConfig(name=name, storage_path=str(storage)),
    )
    started = time.perf_counter()
    with polling(poll_s):  # as fit_distributed polls
        trainer.fit()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--kinds", nargs="+", default=["cost", "anomaly"])
    parser.add_argument("--workers", type=int, nargs="+", default=None)
    parser.add_argument("--n-estimators", type=int, default=None)
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved passes over every method"
    )
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    workers = args.workers or sorted({1, 2, cpus})
    ray.init(
        address="local",
        num_cpus=cpus,
        object_store_memory=2 * 1024**3,
        include_dashboard=False,
        log_to_driver=False,
    )
    params = {} if args.n_estimators is None else {"n_estimators": args.n_estimators}
    poll_s = Settings().train_poll_s  # as the retraining jobs run
    storage = Path(tempfile.mkdtemp(prefix="aetheredge-bench-"))
    records = []
    for repeat in range(args.repeats):
        for w in workers:
            with PeakMemory() as memory:
                seconds = no_op_fit(w, storage, f"no-op-{w}-{repeat}", poll_s)
            records.append(
                _record("-", 0, f"Ray Train no-op, {w} worker(s)", w, repeat, seconds, memory)
            )
    for kind in args.kinds:
        for rows in args.rows:
            data = training_split(kind, rows)
            X, y = data.X_train, data.y_train
            runs = [("scikit-learn, n_jobs=1", 1, None)]
            if cpus > 1:
                runs.append((f"scikit-learn, n_jobs={cpus}", cpus, None))
            runs += [(f"Ray Train, {w} worker(s)", w, w) for w in workers]
            # Interleaved: every pass runs each method once, so a slow spell of the
            # machine falls on all of them rather than on one.
            for repeat in range(args.repeats):
                for label, parallel, ray_workers in runs:
                    model = build_model(kind, random_state=repeat, **params)
                    with PeakMemory() as memory:
                        started = time.perf_counter()
                        if ray_workers is None:
                            model.set_params(n_jobs=parallel).fit(X, y)
                        else:
                            name = f"{kind}-{rows}-{ray_workers}-{repeat}"
                            fit_distributed(
                                model,
                                X,
                                y,
                                num_workers=ray_workers,
                                storage_path=str(storage),
                                name=name,
                                poll_s=poll_s,
                            )
                        seconds = time.perf_counter() - started
                    record = _record(kind, len(X), label, parallel, repeat, seconds, memory)
                    record["metrics"] = model.evaluate(data.X_holdout, data.y_holdout)
                    records.append(record)
                    print(f"{kind} {len(X):,} rows, {label}, pass {repeat}: {seconds:.1f} s")
    ray.shutdown()
    show(records, cpus)


def _record(
    kind: str,
    rows: int,
    method: str,
    parallel: int,
    repeat: int,
    seconds: float,
    memory: PeakMemory,
) -> dict:
    return {
        "kind": kind,
        "rows": rows,
        "method": method,
        "parallel": parallel,
        "repeat": repeat,
        "seconds": seconds,
        "peak_mib": memory.peak_mib,
        "added_mib": memory.added_mib,
    }


def _seconds(records: list[dict], kind: str, rows: int, method: str) -> dict[int, float]:
    """Seconds of one method, by pass."""
    return {
        r["repeat"]: r["seconds"]
        for r in records
        if (r["kind"], r["rows"], r["method"]) == (kind, rows, method)
    }


def _paired(mine: dict[int, float], base: dict[int, float]) -> list[float]:
    """Per pass, ``mine`` over ``base``: ratios of runs that ran side by side."""
    return [mine[k] / base[k] for k in mine if k in base]


def _spread(values: list[float], unit: str = "x") -> str:
    """Median, and the range when there is more than one value."""
    if not values:
        return "-"
    middle = f"{statistics.median(values):.2f}{unit}"
    return middle if len(values) == 1 else f"{middle} [{min(values):.2f}, {max(values):.2f}]"


def show(records: list[dict], cpus: int) -> None:
    """The table: one row per model, size and method, medians over the passes."""
    rows = []
    groups = dict.fromkeys((r["kind"], r["rows"], r["method"]) for r in records)
    for kind, n, method in groups:
        mine = [r for r in records if (r["kind"], r["rows"], r["method"]) == (kind, n, method)]
        seconds = _seconds(records, kind, n, method)
        parallel = mine[0]["parallel"]
        figures = ["-", "-", "-", "-"]
        if kind != "-":
            base = _seconds(records, kind, n, "scikit-learn, n_jobs=1")
            widest = _seconds(records, kind, n, f"scikit-learn, n_jobs={cpus}")
            speedups = [1 / ratio for ratio in _paired(seconds, base)]
            figures = [
                _spread(speedups),
                f"{statistics.median(speedups) / parallel:.0%}",
                _spread(_paired(seconds, widest)),
                _spread([seconds[k] - widest[k] for k in seconds if k in widest], " s"),
            ]
        key = {"cost": "mae", "anomaly": "f1"}.get(kind)
        rows.append(
            [
                kind,
                f"{n:,}",
                method,
                _spread(list(seconds.values()), ""),
                *figures,
                f"{max(r['added_mib'] for r in mine):,.0f} / "
                f"{max(r['peak_mib'] for r in mine):,.0f}",
                f"{key}={statistics.median(r['metrics'][key] for r in mine):.4g}" if key else "-",
            ]
        )
    columns = [
        "model",
        "train rows",
        "method",
        "seconds: median [range]",
        "speed-up vs n_jobs=1",
        "efficiency",
        f"time vs n_jobs={cpus}",
        f"seconds over n_jobs={cpus}",
        "memory MiB: added / peak",
        "hold-out (median)",
    ]
    passes = max(r["repeat"] for r in records) + 1
    show_table(f"Retraining wall time, {passes} interleaved passes", columns, rows)
    show_table("How time grows with rows (medians)", *_growth(records))
    save("train_scaling", {"records": records})


def _growth(records: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Per model and method: seconds per million rows at each size, and the exponent b
    of time ~ rows^b between consecutive sizes (1 is linear)."""
    out = []
    for kind in dict.fromkeys(r["kind"] for r in records if r["kind"] != "-"):
        mine = [r for r in records if r["kind"] == kind]
        for method in dict.fromkeys(r["method"] for r in mine):
            sizes = sorted({r["rows"] for r in mine if r["method"] == method})
            series = [
                (n, statistics.median(_seconds(records, kind, n, method).values())) for n in sizes
            ]
            per_million = ", ".join(f"{s / n * 1e6:.1f}" for n, s in series)
            exponents = ", ".join(
                f"{np.log(s2 / s1) / np.log(n2 / n1):.2f}"
                for (n1, s1), (n2, s2) in itertools.pairwise(series)
            )
            out.append([kind, method, per_million, exponents or "-"])
    return ["model", "method", "seconds per million rows", "growth exponent"], out


if __name__ == "__main__":
    main()
