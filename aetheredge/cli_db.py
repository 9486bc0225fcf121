"""``aetheredge db``: create and look after the PostgreSQL schema.

aetheredge db migrate    apply the versioned migrations (idempotent)
aetheredge db maintain   create the coming days' partitions, drop those past retention
aetheredge db status     layout, migration level and row counts
aetheredge db baselines  rebuild the online baselines in Redis from stored telemetry
"""

from __future__ import annotations

import asyncio
import datetime as dt

import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from aetheredge.config import Settings, redacted
from aetheredge.db import UNAVAILABLE, connect
from aetheredge.db.migrate import MigrationReport, layout_of, migrate
from aetheredge.db.partitions import TIME_SERIES, maintain

db = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()
TABLES = ("telemetry", "cost_usage", "predictions", "model_events")


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
    from aetheredge.online import OnlineFeatures, namespace

    conn = await connect(settings)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {settings.database_schema} CASCADE")
    finally:
        await conn.close()
    online = OnlineFeatures(settings)
    try:
        await online.forget(namespace(settings))
    except RedisError as exc:  # nothing of the schema can be left where nothing answers
        where = redacted(settings.redis_url)
        console.print(f"[yellow]! Redis at {where}: {exc}; keys left as they are[/]")
    finally:
        await online.close()


def _run(coro_fn, settings: Settings):  # type: ignore[no-untyped-def]
    try:
        return asyncio.run(coro_fn(settings))
    except UNAVAILABLE as exc:
        where = redacted(settings.database_url)
        console.print(f"[red]✗ PostgreSQL at {where}: {exc}[/]", markup=True)
        raise typer.Exit(1) from exc


@db.command(name="migrate")
def migrate_command() -> None:
    """Create or upgrade the schema (AETHER_DATABASE_URL, AETHER_DATABASE_SCHEMA)."""
    settings = Settings()
    report = _run(migrate_schema, settings)
    done = ", ".join(report.applied) or "nothing to apply"
    console.print(
        f"[green]✓[/] schema {settings.database_schema} at version {report.current} "
        f"({report.layout} layout): {done}"
    )


async def _maintain(settings: Settings) -> dict[str, dict[str, int]]:
    conn = await connect(settings)
    try:
        layout = await layout_of(conn)
        if layout is None:
            raise typer.BadParameter("the schema is not migrated: run `aetheredge db migrate`")
        today = dt.datetime.now(dt.UTC).date()
        return await maintain(
            conn, layout, today, settings.partition_days_ahead, settings.retention_days
        )
    finally:
        await conn.close()


@db.command(name="maintain")
def maintain_command() -> None:
    """Partitions for the next AETHER_PARTITION_DAYS_AHEAD days; drop past AETHER_RETENTION_DAYS."""
    settings = Settings()
    for table, counts in _run(_maintain, settings).items():
        console.print(f"{table}: created {counts['created']}, dropped {counts['dropped']}")


async def _status(settings: Settings) -> tuple[str | None, list[tuple[str, int, int]]]:
    conn = await connect(settings)
    try:
        layout = await layout_of(conn)
        rows = []
        if layout is not None:
            for table in TABLES:
                count = await conn.fetchval(f"SELECT count(*) FROM {table}")
                parts = await conn.fetchval(
                    "SELECT count(*) FROM pg_inherits WHERE inhparent = $1::regclass", table
                )
                rows.append((table, count, parts if table in TIME_SERIES else 0))
        return layout, rows
    finally:
        await conn.close()


@db.command(name="status")
def status_command() -> None:
    """The schema's layout, and rows and partitions per table."""
    settings = Settings()
    layout, rows = _run(_status, settings)
    if layout is None:
        console.print(f"schema {settings.database_schema} is not migrated")
        raise typer.Exit(1)
    table = Table(title=f"{settings.database_schema} ({layout})")
    for column in ("table", "rows", "partitions"):
        table.add_column(column)
    for name, count, parts in rows:
        table.add_row(name, f"{count:,}", str(parts))
    console.print(table)


async def rebuild_baselines(settings: Settings, since: dt.datetime) -> tuple[int, int, int]:
    """Recompute every entity's baseline from telemetry since ``since`` into Redis.

    Returns (rows read, entities, baselines written). A baseline Redis holds that is
    already as new is kept: live ingest may be running.
    """
    import pandas as pd

    from aetheredge.online import OnlineFeatures, states
    from aetheredge.telemetry import TELEMETRY_COLUMNS

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


@db.command(name="baselines")
def baselines_command(
    days: float = typer.Option(7.0, help="Telemetry of the last DAYS days rebuilds them"),
) -> None:
    """Rebuild Redis's online baselines from PostgreSQL (after Redis lost its data)."""
    settings = Settings()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)

    async def run(s: Settings) -> tuple[int, int, int]:
        return await rebuild_baselines(s, since)

    rows, entities, written = _run(run, settings)
    console.print(f"{rows:,} rows of {entities:,} entities: {written:,} baselines written")
