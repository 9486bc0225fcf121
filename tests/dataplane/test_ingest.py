"""``/v1/telemetry`` logic on the real PostgreSQL server: counts, idempotence, back-pressure."""

import asyncio
import io

import orjson
import pandas as pd
import pytest

from aetheredge.api.errors import RequestError
from aetheredge.datasets.synthetic import telemetry
from aetheredge.ingest.service import IngestService
from aetheredge.ingest.telemetry import json_body
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.stores.postgres import connect

JSON = "application/json"


def _rows(rows: int, seed: int, start: str) -> pd.DataFrame:
    return telemetry(rows, seed=seed, start=start)[list(TELEMETRY_COLUMNS)].reset_index(drop=True)


async def _fetch(settings, query, *args):
    conn = await connect(settings)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def test_counts_idempotence_and_stored_values(db_settings):
    frame = _rows(500, seed=1, start="2026-02-01")
    body = orjson.loads(json_body(frame))
    body["rows"][7]["cpu_util"] = 2.0
    body["rows"].append(body["rows"][0])  # the same row twice in one batch

    async def scenario():
        service = IngestService(db_settings)
        try:
            first = await service.telemetry(orjson.dumps(body), JSON)
            again = await service.telemetry(orjson.dumps(body), JSON)
        finally:
            await service.close()
        return first, again

    first, again = asyncio.run(scenario())
    assert (first.received, first.accepted, first.duplicates, first.rejected) == (501, 499, 1, 1)
    assert [(e.row, e.field) for e in first.errors] == [(7, "cpu_util")]
    assert (again.accepted, again.duplicates, again.rejected) == (0, 500, 1)
    stored = asyncio.run(
        _fetch(
            db_settings,
            "SELECT * FROM telemetry WHERE entity_id = $1 ORDER BY ts",
            frame["entity_id"][0],
        )
    )
    expected = frame[frame["entity_id"] == frame["entity_id"][0]].drop(index=7, errors="ignore")
    assert len(stored) == len(expected)
    assert [r["cpu_util"] for r in stored] == pytest.approx(expected["cpu_util"].tolist(), rel=1e-6)


def test_csv_and_parquet_bulk_bodies(db_settings):
    frame = _rows(20_000, seed=2, start="2026-02-10")
    half = len(frame) // 2
    parquet = io.BytesIO()
    frame.iloc[half:].to_parquet(parquet)

    async def scenario():
        service = IngestService(db_settings)
        try:
            csv = await service.telemetry(
                frame.iloc[:half].to_csv(index=False).encode(), "text/csv"
            )
            pq = await service.telemetry(parquet.getvalue(), "application/vnd.apache.parquet")
        finally:
            await service.close()
        return csv, pq

    csv, pq = asyncio.run(scenario())
    assert (csv.accepted, pq.accepted) == (half, len(frame) - half)
    count = asyncio.run(
        _fetch(db_settings, "SELECT count(*) FROM telemetry WHERE ts >= '2026-02-10'")
    )
    assert count[0][0] == len(frame)


def test_refusals_are_4xx(db_settings):
    service = IngestService(db_settings.model_copy(update={"ingest_max_body_bytes": 4096}))
    frame = _rows(4, seed=3, start="2026-02-20")
    bad = orjson.loads(json_body(frame))
    for row in bad["rows"]:
        row["mem_util"] = -1

    async def status(body, content_type=JSON):
        with pytest.raises(RequestError) as refused:
            await service.telemetry(body, content_type)
        return refused.value.status, refused.value.body

    async def scenario():
        try:
            return [
                await status(b"x" * 5000),
                await status(b"ts,entity_id", "text/xml"),
                await status(b"{not json"),
                await status(orjson.dumps(bad)),
            ]
        finally:
            await service.close()

    (big, _), (media, _), (garbled, _), (all_bad, body) = asyncio.run(scenario())
    assert (big, media, garbled, all_bad) == (413, 415, 422, 422)
    assert body["rejected"] == 4 and body["accepted"] == 0


def test_a_slow_database_gets_503_with_retry_after_not_a_queue(db_settings):
    settings = db_settings.model_copy(update={"db_pool_size": 1, "db_acquire_timeout_s": 0.3})
    frame = _rows(100, seed=4, start="2026-03-01")

    async def scenario():
        service = IngestService(settings)
        await service.telemetry(json_body(frame.iloc[:10]), JSON)  # opens the pool
        locker = await connect(settings)
        tx = locker.transaction()
        await tx.start()
        await locker.execute("LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE")
        slow = asyncio.create_task(service.telemetry(json_body(frame.iloc[10:50]), JSON))
        await asyncio.sleep(0.2)
        with pytest.raises(RequestError) as refused:
            await service.telemetry(json_body(frame.iloc[50:]), JSON)
        await tx.rollback()
        await locker.close()
        done = await slow
        await service.close()
        return refused.value, done

    refused, done = asyncio.run(scenario())
    assert refused.status == 503 and refused.headers == {"Retry-After": "1"}
    assert done.accepted == 40  # the held request completes once the lock goes


def test_an_unreachable_database_gets_503(db_settings):
    from aetheredge.ops.cluster import free_port

    settings = db_settings.model_copy(
        update={"database_url": f"postgresql://127.0.0.1:{free_port()}/test"}
    )

    async def scenario():
        service = IngestService(settings)
        with pytest.raises(RequestError) as refused:
            await service.telemetry(json_body(_rows(5, seed=5, start="2026-03-05")), JSON)
        return refused.value

    refused = asyncio.run(scenario())
    assert refused.status == 503 and "Retry-After" in refused.headers


def test_an_unmigrated_schema_gets_503_naming_the_fix(db_settings):
    settings = db_settings.model_copy(update={"database_schema": "nowhere_to_be_found"})

    async def scenario():
        with pytest.raises(RequestError) as refused:
            await IngestService(settings).telemetry(json_body(_rows(5, 5, "2026-03-05")), JSON)
        return refused.value

    refused = asyncio.run(scenario())
    assert refused.status == 503 and "aetheredge db migrate" in refused.body["detail"]
