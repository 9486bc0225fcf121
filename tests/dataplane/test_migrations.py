"""Migrations and partitions on the real PostgreSQL server."""

import asyncio
from datetime import date

import pytest

from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.kinds.cost import COST_CATEGORICAL, COST_NUMERIC, COST_TARGET
from aetheredge.stores.postgres import connect
from aetheredge.stores.postgres.migrate import Migration, MigrationError, migrate, migrations
from aetheredge.stores.postgres.partitions import maintain


def run(settings, scenario):
    async def main():
        conn = await connect(settings)
        try:
            return await scenario(conn)
        finally:
            await conn.close()

    return asyncio.run(main())


async def _columns(conn, table):
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        table,
    )
    return [r["column_name"] for r in rows]


def test_tables_follow_the_feature_schema(db_settings):
    async def scenario(conn):
        return {t: await _columns(conn, t) for t in ("telemetry", "cost_usage", "predictions")}

    columns = run(db_settings, scenario)
    assert tuple(columns["telemetry"][: len(TELEMETRY_COLUMNS)]) == TELEMETRY_COLUMNS
    cost = [f.name for f in COST_NUMERIC] + [c.name for c in COST_CATEGORICAL] + [COST_TARGET.name]
    assert set(cost) <= set(columns["cost_usage"])
    assert {"ts", "model", "version", "entity_id", "value", "flag", "request_id"} <= set(
        columns["predictions"]
    )


def test_migrate_again_applies_nothing_even_concurrently(db_settings):
    async def once():
        conn = await connect(db_settings)
        try:
            return await migrate(conn, db_settings.database_schema)
        finally:
            await conn.close()

    async def three():
        return await asyncio.gather(once(), once(), once())

    reports = asyncio.run(three())
    assert [r.applied for r in reports] == [[], [], []]
    assert {(r.layout, r.current) for r in reports} == {
        ("partitioned", len(migrations("partitioned")))
    }


def test_a_fresh_schema_migrates_concurrently_exactly_once(db_settings):
    fresh = db_settings.model_copy(update={"database_schema": db_settings.database_schema + "_b"})

    async def once():
        conn = await connect(fresh)
        try:
            return await migrate(conn, fresh.database_schema)
        finally:
            await conn.close()

    async def both():
        try:
            return await asyncio.gather(once(), once())
        finally:
            conn = await connect(fresh)
            await conn.execute(f"DROP SCHEMA {fresh.database_schema} CASCADE")
            await conn.close()

    first, second = sorted(asyncio.run(both()), key=lambda r: -len(r.applied))
    assert len(first.applied) == len(migrations("partitioned")) and second.applied == []


def test_an_edited_applied_migration_is_refused(db_settings, monkeypatch):
    edited = [
        Migration(m.version, m.name, m.sql + "\n-- edited") for m in migrations("partitioned")
    ]
    monkeypatch.setattr("aetheredge.stores.postgres.migrate.migrations", lambda layout: edited)

    async def scenario(conn):
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, db_settings.database_schema)

    run(db_settings, scenario)


def test_time_series_are_day_partitioned_with_brin(db_settings):
    async def scenario(conn):
        strategy = await conn.fetch(
            "SELECT c.relname, p.partstrat::text FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace ORDER BY 1"
        )
        brin = await conn.fetch(
            "SELECT tablename FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexdef LIKE '%USING brin (ts)%' ORDER BY 1"
        )
        return [(r[0], r[1]) for r in strategy], [r[0] for r in brin]

    strategy, brin = run(db_settings, scenario)
    assert strategy == [("predictions", "r"), ("telemetry", "r")]
    assert {"telemetry", "predictions"} <= set(brin)


def test_maintain_creates_ahead_and_drops_past_retention(db_settings):
    async def partitions(conn):
        rows = await conn.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'telemetry'::regclass ORDER BY 1"
        )
        return [r[0] for r in rows]

    async def scenario(conn):
        first = await maintain(conn, "partitioned", date(2031, 3, 10), 2, None)
        again = await maintain(conn, "partitioned", date(2031, 3, 10), 2, None)
        later = await maintain(conn, "partitioned", date(2031, 3, 13), 0, 2)
        return first, again, later, await partitions(conn)

    first, again, later, names = run(db_settings, scenario)
    assert first["telemetry"] == {"created": 4, "dropped": 0}
    assert again["telemetry"] == {"created": 0, "dropped": 0}
    assert later["telemetry"]["dropped"] >= 2  # 03-09 and 03-10 (and today's, from migrate)
    assert [n for n in names if n.startswith("telemetry_p2031")] == [
        "telemetry_p20310311",
        "telemetry_p20310312",
        "telemetry_p20310313",
    ]
