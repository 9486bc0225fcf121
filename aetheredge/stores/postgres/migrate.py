"""Versioned SQL migrations: ``migrations/NNNN_name.sql``, applied once each, in order.

A migration may end with a layout-specific part, ``NNNN_name.<layout>.sql``: the
layout is ``timescaledb`` where that extension can be created, else ``partitioned``
(declarative daily partitions with BRIN indexes). It is chosen once, on the first
run, and recorded; later runs keep it. Running ``migrate`` again applies nothing, and
a migration whose text changed after it was applied is refused rather than skipped.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg

log = logging.getLogger(__name__)

Layout = Literal["timescaledb", "partitioned"]
MIGRATIONS = Path(__file__).with_name("migrations")
PLACEHOLDERS: dict[Layout, dict[str, str]] = {
    "timescaledb": {"$time_partitioning": ""},
    "partitioned": {"$time_partitioning": "PARTITION BY RANGE (ts)"},
}


class MigrationError(RuntimeError):
    """The database's migration history disagrees with the migrations shipped."""


@dataclass(frozen=True)
class Migration:
    """One schema change: its version, name and the SQL for a given layout."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationReport:
    layout: Layout
    applied: list[str]
    current: int


def migrations(layout: Layout) -> list[Migration]:
    """The shipped migrations, rendered for ``layout``, in version order."""
    found = []
    for path in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        if path.name.count(".") > 1:
            continue  # a layout part, appended to its migration below
        sql = path.read_text()
        for placeholder, value in PLACEHOLDERS[layout].items():
            sql = sql.replace(placeholder, value)
        part = path.with_suffix(f".{layout}.sql")
        if part.exists():
            sql += "\n" + part.read_text()
        found.append(Migration(int(path.name[:4]), path.stem, sql))
    return found


async def _choose_layout(conn: asyncpg.Connection) -> Layout:
    available = await conn.fetchval(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    if not available:
        return "partitioned"
    try:
        async with conn.transaction():
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except asyncpg.PostgresError as exc:  # e.g. not in shared_preload_libraries
        log.warning("timescaledb is installed but cannot be created (%s); partitioning", exc)
        return "partitioned"
    return "timescaledb"


HISTORY = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    layout     text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def layout_of(conn: asyncpg.Connection) -> Layout | None:
    """The layout the connection's schema was migrated with; None before migration."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return None
    return await conn.fetchval("SELECT layout FROM schema_migrations ORDER BY version LIMIT 1")


async def migrate(conn: asyncpg.Connection, schema: str) -> MigrationReport:
    """Bring ``schema`` up to date; safe to run concurrently and repeatedly."""
    lock = "hashtext('aetheredge.migrate.' || $1)"
    await conn.execute(f"SELECT pg_advisory_lock({lock})", schema)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(f"SET search_path TO {schema}, public")
        await conn.execute(HISTORY)
        layout = await layout_of(conn) or await _choose_layout(conn)
        done = {
            r["version"]: r["checksum"]
            for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
        }
        applied = []
        for migration in migrations(layout):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.name} changed after it was applied to {schema}; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, layout, checksum) "
                    "VALUES ($1, $2, $3, $4)",
                    migration.version,
                    migration.name,
                    layout,
                    migration.checksum,
                )
            log.info("applied migration %s (%s layout)", migration.name, layout)
            applied.append(migration.name)
        current = max((m.version for m in migrations(layout)), default=0)
        return MigrationReport(layout, applied, current)
    finally:
        await conn.execute(f"SELECT pg_advisory_unlock({lock})", schema)
