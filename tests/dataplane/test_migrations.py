"""Migrations and partitions on the real PostgreSQL server."""

import asyncio
from datetime import date

import pytest

from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.kinds.cost import BASES as COST_BASES
from aetheredge.kinds.cost import COST_CATEGORICAL, COST_NUMERIC
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
    cost = [f.name for f in COST_NUMERIC] + [c.name for c in COST_CATEGORICAL]
    cost += [column for _, column in COST_BASES]
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


def test_cost_rows_of_the_schema_before_focus_are_kept_in_focus_terms(db_settings):
    schema = f"{db_settings.database_schema}_before_focus"
    earlier = [m for m in migrations("partitioned") if m.version < 5]
    latest = next(m for m in migrations("partitioned") if m.version == 5)

    async def scenario(conn):
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        try:
            await conn.execute(f"SET search_path TO {schema}, public")
            for migration in earlier:
                await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO cost_usage (period_start, workload_id, vcpu_hours, memory_gib_hours,"
                " storage_gib_month, egress_gib, gpu_hours, requests, region, pricing_model,"
                " instance_family, cost_usd) VALUES"
                " ('2026-01-01', 'wl-1', 96, 384, 0, 0, 0, 0, 'us-east-1', 'reserved', 'general',"
                " 2.5), ('2026-01-01', 'wl-2', 48, 96, 0, 0, 0, 0, 'eu-west-1', 'spot', 'compute',"
                " 0.7)"
            )
            await conn.execute(latest.sql)
            return await conn.fetch(
                "SELECT workload_id, provider, region, service_category, pricing_category,"
                " commitment_status, charge_frequency, effective_cost, billed_cost, cores"
                " FROM cost_usage ORDER BY workload_id"
            )
        finally:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")

    rows = [tuple(r) for r in run(db_settings, scenario)]
    assert rows == [
        ("wl-1", "AWS", "us-east-1", "Compute", "Committed", "Used", "Usage-Based", 2.5, 2.5, 0.0),
        ("wl-2", "AWS", "eu-west-1", "Compute", "Dynamic", None, "Usage-Based", 0.7, 0.7, 0.0),
    ]
