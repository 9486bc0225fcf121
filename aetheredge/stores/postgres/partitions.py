"""Day partitions of the time-series tables, and their retention.

With the ``partitioned`` layout a row can only be inserted once its UTC day has a
partition: writers call :meth:`DayPartitions.ensure` for the days in a batch (cached,
so a day costs one round trip per process), and ``aetheredge db maintain`` creates
the coming days ahead of time and drops those past retention. With TimescaleDB,
chunks appear by themselves and retention is ``drop_chunks``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import asyncpg

from aetheredge.stores.postgres.migrate import Layout

TIME_SERIES = ("telemetry", "predictions")


class DayPartitions:
    """Makes sure a table has a partition for every day a batch touches."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.known: dict[str, set[date]] = {}

    async def ensure(self, conn: asyncpg.Connection, table: str, days: Iterable[date]) -> int:
        """Create the missing day partitions of ``table``; returns how many were made."""
        if self.layout != "partitioned":
            return 0
        known = self.known.setdefault(table, set())
        missing = sorted(set(days) - known)
        made = 0
        for first, last in _runs(missing):
            made += await conn.fetchval(
                "SELECT ensure_day_partitions($1, $2, $3)", table, first, last
            )
        known.update(missing)
        return made


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as maximal runs of consecutive days, ``(first, last)`` each."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


async def maintain(
    conn: asyncpg.Connection,
    layout: Layout,
    today: date,
    days_ahead: int,
    retention_days: int | None,
) -> dict[str, dict[str, int]]:
    """Create partitions from yesterday to ``today + days_ahead``; drop those past retention."""
    report: dict[str, dict[str, int]] = {}
    partitions = DayPartitions(layout)
    for table in TIME_SERIES:
        days = [today + timedelta(days=d) for d in range(-1, days_ahead + 1)]
        made = await partitions.ensure(conn, table, days)
        dropped = 0
        if retention_days is not None:
            cutoff = today - timedelta(days=retention_days)
            if layout == "partitioned":
                dropped = await conn.fetchval("SELECT drop_day_partitions($1, $2)", table, cutoff)
            else:
                dropped = len(
                    await conn.fetch("SELECT drop_chunks($1::regclass, $2::date)", table, cutoff)
                )
        report[table] = {"created": made, "dropped": dropped}
    return report
