"""Ray and Ray Train: the cluster a process joins and how a retraining runs."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TrainingSettings(BaseModel):
    """Ray and Ray Train: the cluster to join and how a retraining runs."""

    ray_address: str | None = Field(
        default=None, description="Ray GCS address; default: the local cluster of `up`."
    )
    ray_object_store_bytes: int = Field(
        default=256 * 1024**2,
        ge=78 * 1024**2,
        description="Object store of the local cluster (`aetheredge up`) and the tests' one.",
    )
    train_workers: int | None = Field(
        default=None, ge=1, description="Ray Train workers; default: the cluster's free CPUs."
    )
    train_max_failures: int = Field(
        default=2,
        ge=-1,
        description="Worker-group failures a retraining survives, resuming from its last "
        "checkpoint (-1: no limit).",
    )
    train_trees_per_round: int = Field(
        default=25,
        ge=1,
        description="Trees each Ray Train worker grows between checkpoints.",
    )
    train_poll_s: float = Field(
        default=0.2,
        gt=0,
        description="How often Ray Train's controller polls its workers; Ray's default, "
        "2 s, adds up to that much to each step of every fit.",
    )
