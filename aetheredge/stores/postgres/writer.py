"""Idempotent bulk writes: binary COPY into a staging table, then one INSERT.

``COPY`` cannot skip rows that are already present, and row-by-row ``INSERT`` is an
order of magnitude slower. So each batch is copied (asyncpg's binary
``copy_records_to_table``) into a per-connection temporary table, and moved into the
real one with ``INSERT … SELECT … ON CONFLICT DO NOTHING``, all in one transaction:
a batch sent twice, or rows repeated inside one, are stored once.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import asyncpg
import pyarrow as pa
import pyarrow.csv as pa_csv

from aetheredge.settings import Settings
from aetheredge.stores.postgres import UNAVAILABLE, DatabaseUnavailableError, create_pool
from aetheredge.stores.postgres.migrate import layout_of
from aetheredge.stores.postgres.partitions import TIME_SERIES, DayPartitions


class BatchWriter:
    """Writes batches of records into ``table`` through a bounded pool."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        table: str,
        columns: Sequence[str],
        partitions: DayPartitions | None = None,
        acquire_timeout: float = 1.0,
    ) -> None:
        self.pool = pool
        self.table = table
        self.columns = tuple(columns)
        self.partitions = partitions
        self.acquire_timeout = acquire_timeout
        staging = f"_staging_{table}"
        names = ", ".join(self.columns)
        self._staging = staging
        self._create = (
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        self._move = (
            f"WITH moved AS (INSERT INTO {table} ({names}) SELECT {names} FROM {staging} "
            "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM moved"
        )

    async def write(
        self, rows: Sequence[tuple[Any, ...]] | pa.Table, days: Iterable[date] = ()
    ) -> int:
        """Store ``rows``; returns how many were new.

        ``rows`` are tuples in ``columns`` order, sent with binary COPY, or an Arrow
        table with those columns, sent as CSV that Arrow writes in C++ (no Python work
        per row: the prediction log's path). ``days`` are the UTC days the rows fall
        on, for partitioned tables. Raises :class:`DatabaseUnavailableError` when no
        connection frees up within ``acquire_timeout`` or PostgreSQL cannot be reached.
        """
        if len(rows) == 0:
            return 0
        try:
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                if self.partitions is not None:
                    await self.partitions.ensure(conn, self.table, days)
                async with conn.transaction():
                    return await self.write_in(conn, rows)
        except UNAVAILABLE as exc:
            raise DatabaseUnavailableError(f"{type(exc).__name__}: {exc}") from exc

    async def write_in(
        self, conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]] | pa.Table
    ) -> int:
        """Store ``rows`` through ``conn``, inside the caller's transaction (which must
        be open: the staging table empties on commit); returns how many were new."""
        await conn.execute(self._create)
        if isinstance(rows, pa.Table):
            await conn.copy_to_table(
                self._staging,
                source=io.BytesIO(_csv(rows.select(list(self.columns)))),
                columns=self.columns,
                format="csv",
            )
        else:
            await conn.copy_records_to_table(self._staging, records=rows, columns=self.columns)
        return await conn.fetchval(self._move)


def _csv(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    return sink.getvalue()


class Database:
    """One process's pool on the migrated schema, opened on first use, and its writers.

    Opening fails with :class:`DatabaseUnavailableError` (and is tried again on the next
    call) while PostgreSQL is unreachable or the schema is not migrated.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self._writers: dict[str, BatchWriter] = {}
        self._opening = asyncio.Lock()

    async def open(self) -> asyncpg.Pool:
        """The pool, opened on first use."""
        async with self._opening:
            if self.pool is None:
                self.pool, self.partitions = await _open(self.settings)
            return self.pool

    async def writer(self, table: str, columns: Sequence[str]) -> BatchWriter:
        """The writer of ``columns`` into ``table`` (one per table and process)."""
        pool = await self.open()
        if table not in self._writers:
            self._writers[table] = BatchWriter(
                pool,
                table,
                columns,
                self.partitions if table in TIME_SERIES else None,
                self.settings.db_acquire_timeout_s,
            )
        return self._writers[table]

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


async def _open(settings: Settings) -> tuple[asyncpg.Pool, DayPartitions]:
    try:
        pool = await create_pool(settings)
        async with pool.acquire() as conn:
            layout = await layout_of(conn)
    except UNAVAILABLE as exc:
        raise DatabaseUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    if layout is None:
        await pool.close()
        raise DatabaseUnavailableError(
            f"schema {settings.database_schema!r} is not migrated: run `aetheredge db migrate`"
        )
    return pool, DayPartitions(layout)
