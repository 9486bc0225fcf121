"""In-process scoring speed: the compiled engine against scikit-learn, same trees.

For each model kind (the product's default forests, trained here on synthetic data),
in one run on one machine, the same hold-out rows are scored at batch sizes 1, 64,
1000 and 10,000 by:
  * scikit-learn (the baseline): ``model.output``;
  * Treelite GTIL (``treelite.sklearn.import_model`` + ``gtil.predict``), the other
    compiled engine considered, 1 thread;
  * AetherEdge's compiled ONNX Runtime graph (:mod:`aetheredge.artifacts.onnx`), 1 and 2 threads.
Each cell is the median latency of repeated calls; the table gives rows/s and the
speed-up over scikit-learn, and the JSON lands under benchmarks/results/.

    python -m benchmarks.inprocess --rows 100000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import treelite
from treelite import gtil

from aetheredge.artifacts.onnx import CompiledModel, compile_model, max_relative_difference
from aetheredge.datasets.frames import load_frame, split
from aetheredge.models import build_model
from benchmarks.report import save, show

BATCHES = (1, 64, 1000, 10_000)


def median_seconds(fn: Callable[[np.ndarray], object], X: np.ndarray, budget_s: float) -> float:
    """Median wall time of ``fn(X)`` over as many calls as fit in ``budget_s`` (3 at least)."""
    fn(X)  # warm
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < 3 or time.perf_counter() < deadline:
        started = time.perf_counter()
        fn(X)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="training rows per model")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per cell")
    args = parser.parse_args()
    records = []
    for kind in ("anomaly", "cost"):
        data = split(kind, load_frame(kind, rows=args.rows, seed=0))
        model = build_model(kind, random_state=0).fit(data.X_train, data.y_train)
        payload = compile_model(model)
        # Treelite takes one scikit-learn forest: the anomaly detector's context trees,
        # the ones that score rows with a baseline (the rows timed here).
        imported = treelite.sklearn.import_model(getattr(model.forest_, "context", model.forest_))
        engines: dict[str, Callable[[np.ndarray], object]] = {
            "scikit-learn": model.output,
            "Treelite GTIL, 1 thread": lambda X, m=imported: gtil.predict(m, X, nthread=1),
            "ONNX Runtime, 1 thread": CompiledModel(payload, threads=1),
            "ONNX Runtime, 2 threads": CompiledModel(payload, threads=2),
        }
        pool = np.tile(data.X_holdout, (1 + max(BATCHES) // len(data.X_holdout), 1))
        rel_diff = max_relative_difference(model, engines["ONNX Runtime, 1 thread"], pool)
        for batch in BATCHES:
            X = np.ascontiguousarray(pool[:batch])
            for engine, fn in engines.items():
                seconds = median_seconds(fn, X, args.budget)
                records.append(
                    {
                        "kind": kind,
                        "trees": model.n_estimators,
                        "batch": batch,
                        "engine": engine,
                        "latency_ms": seconds * 1e3,
                        "rows_per_s": batch / seconds,
                        "onnx_max_rel_diff": rel_diff,
                    }
                )
    rows = []
    for r in records:
        base = next(
            b
            for b in records
            if (b["kind"], b["batch"], b["engine"]) == (r["kind"], r["batch"], "scikit-learn")
        )
        rows.append(
            [
                f"{r['kind']} ({r['trees']} trees)",
                f"{r['batch']:,}",
                r["engine"],
                f"{r['latency_ms']:.3f}",
                f"{r['rows_per_s']:,.0f}",
                f"{base['latency_ms'] / r['latency_ms']:.1f}x",
            ]
        )
    show(
        "In-process scoring: compiled engines vs scikit-learn (same trees, same rows)",
        ["model", "batch", "engine", "latency ms", "rows/s", "vs scikit-learn"],
        rows,
    )
    save("inprocess", {"records": records})


if __name__ == "__main__":
    main()
