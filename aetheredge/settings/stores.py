"""PostgreSQL and Redis: where they are, pools, timeouts, partitions, online baselines."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StoreSettings(BaseModel):
    """PostgreSQL and Redis: where they are, pools, timeouts, partitions, online baselines."""

    database_url: str = Field(
        default="postgresql://127.0.0.1:5432/test",
        description="PostgreSQL DSN (asyncpg/libpq form) for telemetry, cost usage, the "
        "prediction log and model events.",
    )
    database_schema: str = Field(
        default="aetheredge",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Schema holding the platform's tables (created by `aetheredge db migrate`).",
    )
    db_pool_size: int = Field(default=4, ge=1, description="Connections per process.")
    db_acquire_timeout_s: float = Field(
        default=1.0,
        gt=0,
        description="Longest wait for a pooled connection before ingest answers 503.",
    )
    db_command_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest a single statement may run."
    )
    partition_days_ahead: int = Field(
        default=3, ge=0, description="Daily partitions `db maintain` creates ahead of today."
    )
    retention_days: int | None = Field(
        default=None, ge=1, description="Drop telemetry/prediction partitions older than this."
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Online features and spill stream."
    )
    redis_timeout_s: float = Field(
        default=0.25, gt=0, description="Longest scoring waits on Redis before going degraded."
    )
    redis_retry_s: float = Field(
        default=1.0, ge=0, description="After a Redis failure, score degraded this long."
    )
    online_cache_s: float = Field(
        default=1.0,
        ge=0,
        description="How long a replica reuses a baseline it read from Redis (0: never).",
    )
    online_ttl_s: int = Field(
        default=7 * 86400, ge=60, description="An entity's baseline expires after this idle."
    )
