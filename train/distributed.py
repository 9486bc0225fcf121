"""Ray Train V2: every worker grows a share of the forest on its shard, the driver merges.

The data travels as one Ray Dataset (features and target side by side), split evenly
across workers by Ray Train. Each worker fits ``make_forest(share, seed)`` on its shard
and reports the fitted share as its checkpoint file; Ray Train gathers all workers'
files into one checkpoint directory, from which the driver merges the shares into one
scikit-learn estimator (:func:`aetheredge.models.forest.merge_forests`).
"""

from __future__ import annotations

import logging
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import ray
import ray.data
import ray.train
from ray.train import Checkpoint, FailureConfig, RunConfig, ScalingConfig
from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

from aetheredge.models import ForestModel
from aetheredge.models.forest import merge_forests, share_sizes

log = logging.getLogger(__name__)
_SHARE_FILE = "share-{rank:04d}.pkl"


def default_workers() -> int:
    """One worker per CPU the cluster has free now (at least one)."""
    return max(1, int(ray.available_resources().get("CPU", 1)))


def _fit_share(config: dict[str, Any]) -> None:
    """Train-loop of one worker: fit this rank's share of trees on this rank's shard."""
    rank = ray.train.get_context().get_world_rank()
    model: ForestModel = config["model"]
    started = time.perf_counter()
    shard = ray.train.get_dataset_shard("train")
    data = np.concatenate(
        [b["data"] for b in shard.iter_batches(batch_size=65_536, batch_format="numpy")]
    )
    X, y = data[:, :-1], data[:, -1]
    forest = model.make_forest(
        config["sizes"][rank], config["seeds"][rank], data_fraction=len(X) / config["rows"]
    )
    forest.fit(X, model.encode_target(y))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / _SHARE_FILE.format(rank=rank)).write_bytes(pickle.dumps(forest))
        ray.train.report(
            {
                "rank": rank,
                "rows": len(X),
                "trees": config["sizes"][rank],
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
    storage_path: Path,
    name: str,
    max_failures: int = 0,
) -> ForestModel:
    """Fit ``model`` with Ray Train across ``num_workers`` and return it fitted.

    ``num_workers`` defaults to the cluster's free CPUs, and never exceeds the number
    of trees. The result is the same estimator type a single-process ``fit`` gives.
    """
    workers = min(num_workers or default_workers(), model.n_estimators)
    target = np.zeros(len(X)) if y is None else np.asarray(y, dtype=np.float64)
    table = np.column_stack([X.astype(np.float64), target])
    dataset = ray.data.from_numpy(np.array_split(table, max(1, workers * 2)))
    seeds = np.random.default_rng(model.random_state).integers(0, 2**31 - 1, workers)
    trainer = DataParallelTrainer(
        _fit_share,
        train_loop_config={
            "model": model,
            "sizes": share_sizes(model.n_estimators, workers),
            "seeds": [int(s) for s in seeds],
            "rows": len(X),
        },
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=False),
        run_config=RunConfig(
            name=name,
            storage_path=str(storage_path),
            failure_config=FailureConfig(max_failures=max_failures),
        ),
        datasets={"train": dataset},
    )
    result = trainer.fit()
    with result.checkpoint.as_directory() as directory:
        files = sorted(Path(directory).glob("share-*.pkl"))
        if len(files) != workers:
            raise RuntimeError(f"expected {workers} forest shares, Ray Train returned {len(files)}")
        shares = [pickle.loads(f.read_bytes()) for f in files]
    log.info("merged %d shares into %d trees", workers, model.n_estimators)
    return model.adopt(merge_forests(shares), X, y)
