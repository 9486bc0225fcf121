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
from rich.console import Console
from rich.table import Table

from aetheredge.settings import Settings
from aetheredge.settings.sources import redacted
from aetheredge.stores.admin import migrate_schema, rebuild_baselines
from aetheredge.stores.postgres import UNAVAILABLE, connect
from aetheredge.stores.postgres.migrate import layout_of
from aetheredge.stores.postgres.partitions import TIME_SERIES, maintain

db = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()
TABLES = ("telemetry", "cost_usage", "predictions", "model_events")


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
