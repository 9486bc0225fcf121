"""The prediction log on the real servers: nothing lost, nothing doubled, across outages."""

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from aetheredge.api.errors import RequestError
from aetheredge.datasets.synthetic import telemetry
from aetheredge.ingest.service import IngestService
from aetheredge.ingest.telemetry import json_body
from aetheredge.serving.predlog import Entry, PredictionLog, serialize, to_table
from aetheredge.stores.postgres import connect
from aetheredge.stores.spill import FileSpill
from tests.support.outages import TcpProxy, restart_postgres, via


def _entry(i: int, rows: int) -> Entry:
    rng = np.random.default_rng(i)
    values = rng.uniform(0, 1, rows)
    return Entry(
        np.datetime64(time.time_ns(), "ns"),
        f"req-{i}",
        "anomaly",
        "3",
        [f"host-{j}" for j in range(rows)],
        values,
        values > 0.9,
        False,
    )


async def _rows(settings) -> tuple[int, int]:
    conn = await connect(settings)
    try:
        return tuple(
            await conn.fetchrow(
                "SELECT count(*), count(DISTINCT (request_id, row_index)) FROM predictions"
            )
        )
    finally:
        await conn.close()


async def _empty(settings) -> None:
    conn = await connect(settings)
    try:
        await conn.execute("TRUNCATE predictions")
    finally:
        await conn.close()


async def _drain(log: PredictionLog, timeout_s: float = 60.0) -> None:
    await log.close()
    deadline = time.monotonic() + timeout_s
    while (await log.spill_depth()) != {"stream": 0, "file": 0}:
        assert time.monotonic() < deadline, await log.spill_depth()
        log._retry_at = 0.0
        await log.replay()
        await asyncio.sleep(0.2)
    await log.database.close()
    await log.online.close()


def _settings(db_settings, tmp_path: Path, **changes):
    return db_settings.model_copy(
        update={"home": tmp_path, "log_interval_s": 0.05, "log_batch_rows": 200, **changes}
    )


def test_every_row_is_written_once_with_its_values(db_settings, tmp_path):
    settings = _settings(db_settings, tmp_path)

    async def scenario():
        await _empty(settings)
        log = PredictionLog(settings)
        for i in range(40):
            log.record(_entry(i, 1 + i % 7))
        await _drain(log)
        conn = await connect(settings)
        row = await conn.fetchrow(
            "SELECT value, flag, entity_id, version FROM predictions "
            "WHERE request_id = 'req-5' AND row_index = 2"
        )
        await conn.close()
        return await _rows(settings), row, log.spilled_batches

    (count, distinct), row, spilled = asyncio.run(scenario())
    expected = sum(1 + i % 7 for i in range(40))
    assert count == distinct == expected and spilled == 0
    assert row["value"] == pytest.approx(_entry(5, 6).values[2])
    assert (row["entity_id"], row["version"]) == ("host-2", "3")


def test_a_postgres_restart_mid_stream_loses_and_doubles_nothing(db_settings, tmp_path):
    """Scoring (the log) and ingest both run through a real PostgreSQL restart."""
    settings = _settings(db_settings, tmp_path)
    requests, rows = 150, 20
    fleet = telemetry(10 * 300, steps_per_entity=300, seed=8, start="2026-09-20")
    fleet["entity_id"] = "restart-" + fleet["entity_id"].astype(str)
    batches = np.array_split(np.arange(len(fleet)), 60)

    async def scenario():
        await _empty(settings)
        log = PredictionLog(settings)
        ingest = IngestService(settings)
        refused = 0

        async def score():
            for i in range(requests):
                log.record(_entry(i, rows))
                await asyncio.sleep(0.02)

        async def send():
            nonlocal refused
            for part in batches:
                body = json_body(fleet.iloc[part])
                while True:  # a client retrying 503s, as Retry-After asks
                    try:
                        await ingest.telemetry(body, "application/json")
                        break
                    except RequestError as exc:
                        assert exc.status == 503, exc.body
                        refused += 1
                        await asyncio.sleep(0.2)
                await asyncio.sleep(0.05)

        tasks = [asyncio.create_task(score()), asyncio.create_task(send())]
        await asyncio.sleep(0.8)
        await asyncio.to_thread(restart_postgres, settings.database_url)
        await asyncio.gather(*tasks)
        await ingest.close()
        await _drain(log)
        conn = await connect(settings)
        stored = await conn.fetchval(
            "SELECT count(*) FROM telemetry WHERE entity_id LIKE 'restart-%'"
        )
        await conn.close()
        return await _rows(settings), log.spilled_batches, stored, refused

    (count, distinct), spilled, stored, refused = asyncio.run(scenario())
    assert count == distinct == requests * rows
    assert stored == len(fleet)
    assert spilled > 0 and refused > 0  # the restart really hit both streams


def test_with_postgres_and_redis_both_away_batches_go_to_a_file_and_come_back(
    db_settings, tmp_path
):
    pg_url, redis_url = urlsplit(db_settings.database_url), urlsplit(db_settings.redis_url)

    async def scenario():
        pg = TcpProxy(pg_url.hostname, pg_url.port or 5432)
        cache = TcpProxy(redis_url.hostname, redis_url.port or 6379)
        settings = _settings(
            db_settings,
            tmp_path,
            database_url=via(db_settings.database_url, pg.port),
            redis_url=via(db_settings.redis_url, cache.port),
        )
        await pg.restore()
        await cache.restore()
        await _empty(settings)
        log = PredictionLog(settings)
        for i in range(10):
            log.record(_entry(i, 5))
        await log.flush()  # written directly
        await pg.cut()
        for i in range(10, 20):
            log.record(_entry(i, 5))
            await log.flush()  # PostgreSQL away: to the Redis stream
        in_stream = await log.spill_depth()
        await cache.cut()
        for i in range(20, 30):
            log.record(_entry(i, 5))
            await log.flush()  # both away: to the file
        in_file = log.file.depth()
        await cache.restore()
        for i in range(30, 35):
            log.record(_entry(i, 5))
            await log.flush()  # Redis back, but the file holds older batches: file
        await pg.restore()
        await _drain(log)
        counts = await _rows(settings)
        await pg.cut()
        await cache.cut()
        return in_stream, in_file, counts

    in_stream, in_file, (count, distinct) = asyncio.run(scenario())
    assert in_stream["stream"] == 10 and in_file == 1
    assert count == distinct == 35 * 5


def test_a_dead_process_spill_file_is_adopted_and_replayed(db_settings, tmp_path):
    settings = _settings(db_settings, tmp_path)
    spill_dir = tmp_path / "spill" / settings.database_schema
    orphan = FileSpill(spill_dir / "predictions-1-dead.spill")
    orphan.append(serialize(to_table([_entry(900, 7), _entry(901, 3)])))
    import os

    os.close(orphan.fd)  # the process is gone: its lock with it

    async def scenario():
        await _empty(settings)
        log = PredictionLog(settings)
        assert [f.path for f in log.adopted] == [orphan.path]
        await _drain(log)
        return await _rows(settings), log.adopted

    (count, distinct), adopted = asyncio.run(scenario())
    assert count == distinct == 10 and adopted == [] and not orphan.path.exists()


def test_a_log_that_falls_behind_spills_instead_of_slowing_scoring(db_settings, tmp_path):
    settings = _settings(db_settings, tmp_path, log_buffer_rows=60, log_batch_rows=10_000)

    async def scenario():
        await _empty(settings)
        log = PredictionLog(settings)
        started = time.perf_counter()
        for i in range(50):  # 500 rows arrive faster than any flush: the buffer overflows
            log.record(_entry(i, 10))
        recording = time.perf_counter() - started
        spilled = log.spilled_batches
        await _drain(log)
        return await _rows(settings), spilled, recording

    (count, distinct), spilled, recording = asyncio.run(scenario())
    assert spilled >= 7 and recording < 2.0
    assert count == distinct == 500
