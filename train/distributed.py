"""Ray Train V2: every worker grows a share of the forest on its shard, the driver merges.

The data is already in the driver's memory (read from PostgreSQL or Parquet), so it
travels the shortest way: one shard per worker (every ``workers``-th row, so each
shard spans the whole period; features and target) put in Ray's shared object store,
which each worker maps without a copy. (A Ray
Dataset would re-chunk and stream the same rows through Ray Data's executor, which
cost 10 s at 800k rows here, and every worker would import Ray Data.) Each worker
grows its share of trees in *rounds*; after
each round it reports every tree it has grown so far as its checkpoint file, and Ray
Train gathers all workers' files into one checkpoint directory.

When a worker dies, ``FailureConfig(max_failures=…)`` restarts the group from the
latest checkpoint: each worker reloads the rounds it had finished and grows only the
rest. Seeds depend on (rank, round) alone, so a resumed run grows the same trees as
an uninterrupted one. The driver merges the final shares into one scikit-learn
estimator (:func:`aetheredge.models.forest.merge_forests`).
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import ray
import ray.train
from ray.train import Checkpoint, FailureConfig, RunConfig, ScalingConfig
from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

from aetheredge.models import ForestModel
from aetheredge.models.forest import Forest, merge_forests, share_sizes
from train import faults

log = logging.getLogger(__name__)
_SHARE_FILE = "share-{rank:04d}.pkl"
_POLL_ENV = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"  # Ray Train reads it when a fit starts


@dataclass(frozen=True)
class FitReport:
    """What a distributed fit did: workers, rounds, and trees restored after failures."""

    workers: int
    rounds: int
    restored_trees: int  # trees rank 0 reloaded from a checkpoint instead of regrowing
    restarts: int  # times the worker group was restarted from a checkpoint


@contextmanager
def polling(interval_s: float) -> Iterator[None]:
    """Ray Train fits started in this block poll their workers every ``interval_s``.

    Ray Train has no argument for it: its controller reads the environment variable,
    which the driver propagates. One the user set already is kept.
    """
    if _POLL_ENV in os.environ:
        yield
        return
    os.environ[_POLL_ENV] = str(interval_s)
    try:
        yield
    finally:
        del os.environ[_POLL_ENV]


def default_workers() -> int:
    """One worker per CPU the cluster has free now (at least one)."""
    return max(1, int(ray.available_resources().get("CPU", 1)))


def plan_rounds(sizes: list[int], trees_per_round: int) -> int:
    """Rounds every worker runs: all must report equally often, each round ≥ 1 tree."""
    return max(1, min(math.ceil(max(sizes) / trees_per_round), min(sizes)))


def _round_seed(random_state: int | None, rank: int, round_: int) -> int:
    return int(np.random.default_rng([random_state or 0, rank, round_]).integers(2**31 - 1))


def _restore(rank: int) -> tuple[list[Forest], int]:
    """This rank's finished rounds from the latest checkpoint, and the restarts so far."""
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return [], 0
    with checkpoint.as_directory() as directory:
        saved = pickle.loads((Path(directory) / _SHARE_FILE.format(rank=rank)).read_bytes())
    return saved["rounds"], saved["restarts"] + 1


def _fit_share(config: dict[str, Any]) -> None:
    """Train-loop of one worker: grow this rank's share of trees, a round at a time."""
    rank = ray.train.get_context().get_world_rank()
    model: ForestModel = config["model"]
    started = time.perf_counter()
    X, target = ray.get(config["shards"][rank])  # read-only views of the object store
    y = model.encode_target(target)
    chunks = share_sizes(config["sizes"][rank], config["rounds"])
    grown, restarts = _restore(rank)
    restored = sum(len(f.estimators_) for f in grown)
    fault = faults.planned() if restarts == 0 else None
    for round_ in range(len(grown), config["rounds"]):
        if fault is not None and fault.due(rank, round_):
            ray.train.get_all_reported_checkpoints()  # the restart must see finished rounds
            fault.fire()
        seed = _round_seed(model.random_state, rank, round_)
        forest = model.make_forest(
            chunks[round_], seed, rows=len(X), data_fraction=len(X) / config["rows"]
        )
        grown.append(forest.fit(X, y))
        with tempfile.TemporaryDirectory() as tmp:
            state = {"rounds": grown, "restarts": restarts}
            (Path(tmp) / _SHARE_FILE.format(rank=rank)).write_bytes(pickle.dumps(state))
            ray.train.report(
                {
                    "rank": rank,
                    "round": round_,
                    "rows": len(X),
                    "trees": sum(chunks[: round_ + 1]),
                    "restored_trees": restored,
                    "restarts": restarts,
                    "fit_seconds": time.perf_counter() - started,
                },
                checkpoint=Checkpoint.from_directory(tmp),
            )


def fit_distributed(
    model: ForestModel,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    num_workers: int | None = None,
    storage_path: str,
    name: str,
    max_failures: int = 0,
    trees_per_round: int = 1_000_000,
    poll_s: float = 0.2,
) -> FitReport:
    """Fit ``model`` with Ray Train across ``num_workers``; it ends up fitted.

    ``num_workers`` defaults to the cluster's free CPUs, and never exceeds the number
    of trees. Each worker checkpoints after every ``trees_per_round`` trees it grows;
    up to ``max_failures`` worker-group failures are survived by resuming from there.
    Ray Train's controller polls the workers every ``poll_s``. The result is the same
    estimator type a single-process ``fit`` gives.
    """
    workers = min(num_workers or default_workers(), model.n_estimators)
    sizes = share_sizes(model.n_estimators, workers)
    rounds = plan_rounds(sizes, trees_per_round)
    target = np.zeros(len(X)) if y is None else np.asarray(y, dtype=np.float64)
    # Contiguous copies: Ray stores those out of band and workers map them without a
    # copy; a strided view would be pickled in band and copied into every worker.
    shards = [
        ray.put((np.ascontiguousarray(X[rank::workers]), target[rank::workers].copy()))
        for rank in range(workers)
    ]
    trainer = DataParallelTrainer(
        _fit_share,
        train_loop_config={
            "model": model,
            "sizes": sizes,
            "rounds": rounds,
            "rows": len(X),
            "shards": shards,
        },
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=False),
        run_config=RunConfig(
            name=name,
            storage_path=storage_path,
            failure_config=FailureConfig(max_failures=max_failures),
        ),
    )
    with polling(poll_s):
        result = trainer.fit()
    with result.checkpoint.as_directory() as directory:
        files = sorted(Path(directory).glob("share-*.pkl"))
        if len(files) != workers:
            raise RuntimeError(f"expected {workers} forest shares, Ray Train returned {len(files)}")
        shares = [pickle.loads(f.read_bytes())["rounds"] for f in files]
    forests = [forest for share in shares for forest in share]
    log.info("merged %d workers' %d rounds into %d trees", workers, rounds, model.n_estimators)
    model.adopt(merge_forests(forests), X, y)
    return FitReport(
        workers=workers,
        rounds=rounds,
        restored_trees=int(result.metrics.get("restored_trees", 0)),
        restarts=int(result.metrics.get("restarts", 0)),
    )
