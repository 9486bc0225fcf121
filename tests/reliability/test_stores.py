"""The stores fail under the live service: PostgreSQL restarts during ingest and scoring,
Redis goes away during scoring. Counted exactly: every accepted telemetry row is stored
once, every answered request is logged once, row by row."""

import asyncio
import threading
import time

import numpy as np
import pytest

from aetheredge.datasets.synthetic import telemetry
from aetheredge.ingest.telemetry import json_body
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.stores.postgres import connect
from tests.support.outages import restart_postgres
from tests.support.steady import SteadyLoad, anomaly_body

pytestmark = pytest.mark.integration
ROWS = 8  # per scoring request


def _query(settings, sql: str, *args) -> tuple:
    async def run():
        conn = await connect(settings)
        try:
            return tuple(await conn.fetchrow(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def _logged(settings, request_ids: list[str], timeout_s: float = 60.0) -> tuple[int, int, int]:
    """(rows, distinct rows, degraded rows) the prediction log holds for ``request_ids``,
    once it holds all of them (spilled rows are replayed) or the time is up."""
    sql = """SELECT count(*), count(DISTINCT (request_id, row_index)),
                    count(*) FILTER (WHERE degraded)
             FROM predictions WHERE request_id = ANY($1::text[])"""
    deadline = time.monotonic() + timeout_s
    while (found := _query(settings, sql, request_ids))[0] < ROWS * len(request_ids):
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    return found


def test_a_postgres_restart_during_ingest_and_scoring_loses_and_doubles_nothing(stack):
    fleet = telemetry(12 * 200, steps_per_entity=200, seed=41, start="2026-08-01")
    fleet = fleet[list(TELEMETRY_COLUMNS)].assign(
        entity_id=lambda f: "pg-restart-" + f.entity_id.astype(str)
    )
    answers = []

    def send() -> None:  # a client retrying 503s after their Retry-After
        for part in np.array_split(np.arange(len(fleet)), 40):
            answers.append(stack.client.ingest(json_body(fleet.iloc[part])))
            time.sleep(0.05)

    with SteadyLoad(stack.client, "/v1/anomaly/score", anomaly_body(ROWS, seed=41)) as load:
        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(1)
        restart_postgres(stack.settings.database_url)
        sender.join(timeout=120)
        time.sleep(1)
    waited = stack.client.waited
    print(f"postgres restart: {len(load.answers)} requests, ingest waited out {waited} 503s")
    assert load.failures() == [], load.failures()[:5]
    stored = _query(
        stack.settings,
        "SELECT count(*), count(DISTINCT (entity_id, ts)) FROM telemetry"
        " WHERE entity_id LIKE 'pg-restart-%'",
    )
    assert stored == (len(fleet), len(fleet))
    assert sum(a["accepted"] + a["duplicates"] for a in answers) >= len(fleet)
    assert waited > 0  # the restart really met the ingest stream
    ids = [a.body["request_id"] for a in load.answers]
    rows, distinct, _ = _logged(stack.settings, ids)
    assert rows == distinct == ROWS * len(ids)


def test_redis_away_during_scoring_degrades_then_recovers_logging_every_row(stack):
    with SteadyLoad(stack.client, "/v1/anomaly/score", anomaly_body(ROWS, seed=42)) as load:
        time.sleep(2)
        cut_at = time.time()
        stack.redis.cut()
        time.sleep(4)
        fleet = telemetry(50, seed=42, start="2026-08-10")[list(TELEMETRY_COLUMNS)]
        fleet["entity_id"] = "redis-away-" + fleet["entity_id"].astype(str)
        during = stack.client.ingest(json_body(fleet))
        restored_at = time.time()
        stack.redis.restore()
        time.sleep(stack.settings.redis_retry_s + stack.settings.online_cache_s + 3)
    assert load.failures() == [], load.failures()[:5]
    assert during["accepted"] == len(fleet) and during["degraded"]
    degraded = [a for a in load.answers if a.body["degraded"]]
    last = max((a.at - restored_at for a in degraded), default=float("nan"))
    shown = f"{len(degraded)}/{len(load.answers)} answers degraded"
    print(f"redis away: {shown}, the last {last:.2f} s after the restore")
    assert degraded and all(cut_at < a.at for a in degraded)  # set by the outage only
    settle = restored_at + stack.settings.redis_retry_s + stack.settings.online_cache_s + 1
    late = [round(a.at - restored_at, 2) for a in degraded if a.at >= settle]
    assert not late, f"degraded answers {late} s after the restore"  # cleared once back
    ids = [a.body["request_id"] for a in load.answers]
    rows, distinct, flagged = _logged(stack.settings, ids)
    assert rows == distinct == ROWS * len(ids)
    assert flagged == ROWS * len(degraded)  # each logged row says how it was scored
