"""Creating, dropping and rebuilding what the stores hold, as the CLI, tests and benchmarks do.

:func:`migrate_schema` applies the migrations and creates today's partitions;
:func:`drop_schema` drops a schema and its Redis keys; :func:`rebuild_baselines`
recomputes Redis's online baselines from the telemetry PostgreSQL kept.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
from redis.exceptions import RedisError

from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.settings import Settings
from aetheredge.settings.sources import redacted
from aetheredge.stores.online import OnlineFeatures, states
from aetheredge.stores.postgres import connect
from aetheredge.stores.postgres.migrate import MigrationReport, migrate
from aetheredge.stores.postgres.partitions import maintain
from aetheredge.stores.redis import namespace

log = logging.getLogger(__name__)


async def migrate_schema(settings: Settings) -> MigrationReport:
    """Migrate the configured schema, then create today's partitions."""
    conn = await connect(settings)
    try:
        report = await migrate(conn, settings.database_schema)
        await maintain(
            conn,
            report.layout,
            dt.datetime.now(dt.UTC).date(),
            settings.partition_days_ahead,
            settings.retention_days,
        )
        return report
    finally:
        await conn.close()


async def drop_schema(settings: Settings) -> None:
    """Drop the configured schema and its Redis keys (tests, benchmarks, a fresh demo)."""
    conn = await connect(settings)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {settings.database_schema} CASCADE")
    finally:
        await conn.close()
    online = OnlineFeatures(settings)
    try:
        await online.forget(namespace(settings))
    except RedisError as exc:  # nothing of the schema can be left where nothing answers
        log.warning("Redis at %s: %s; keys left as they are", redacted(settings.redis_url), exc)
    finally:
        await online.close()


async def rebuild_baselines(settings: Settings, since: dt.datetime) -> tuple[int, int, int]:
    """Recompute every entity's baseline from telemetry since ``since`` into Redis.

    Returns (rows read, entities, baselines written). A baseline Redis holds that is
    already as new is kept: live ingest may be running.
    """
    conn = await connect(settings)
    try:
        records = await conn.fetch(
            f"SELECT {', '.join(TELEMETRY_COLUMNS)} FROM telemetry WHERE ts >= $1", since
        )
    finally:
        await conn.close()
    frame = pd.DataFrame([tuple(r) for r in records], columns=list(TELEMETRY_COLUMNS))
    if frame.empty:
        return 0, 0, 0
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).dt.tz_localize(None)
    packed = states(frame)
    online = OnlineFeatures(settings)
    try:
        return len(frame), len(packed), await online.restore(packed)
    finally:
        await online.close()
