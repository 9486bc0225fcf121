"""Online baselines in the real Redis: parity with training's offline features, degradation."""

import asyncio
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import redis

from aetheredge.datasets.synthetic import telemetry
from aetheredge.features.baselines import WARMUP, derive
from aetheredge.ingest.service import IngestService
from aetheredge.ingest.telemetry import json_body
from aetheredge.kinds.anomaly import KIND as ANOMALY
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.ops.cluster import free_port
from aetheredge.stores.admin import rebuild_baselines
from aetheredge.stores.online import OnlineFeatures
from aetheredge.stores.postgres import connect
from tests.support.outages import redis_behind_proxy


def _fleet(steps: int, start: str) -> pd.DataFrame:
    frame = telemetry(8 * steps, steps_per_entity=steps, seed=6, start=start, incident_rate=0.05)
    return frame[list(TELEMETRY_COLUMNS)].reset_index(drop=True)


def test_online_zscores_equal_offline_training_features(db_settings):
    fleet = _fleet(120, "2026-05-01")
    times = np.sort(fleet["ts"].unique())
    history, scored = fleet[fleet["ts"] < times[-1]], fleet[fleet["ts"] == times[-1]]
    # Batches arrive in time order, each shuffled inside, and one is sent twice.
    ordered = history.sort_values("ts")
    batches = [
        ordered.iloc[part].sample(frac=1, random_state=1)
        for part in np.array_split(np.arange(len(ordered)), 6)
    ]
    batches.insert(3, batches[2])

    async def scenario():
        service = IngestService(db_settings)
        try:
            answers = [await service.telemetry(json_body(b), "application/json") for b in batches]
            X = ANOMALY.encode(scored)
            online, degraded = await service.online.zscores(scored["entity_id"].tolist(), X)
        finally:
            await service.close()
        return answers, online, degraded

    answers, online, degraded = asyncio.run(scenario())
    assert answers[3].baselines_updated == 0 and answers[3].duplicates == len(batches[3])
    assert sum(a.baselines_updated for a in answers) == len(history)
    offline = derive(fleet, ANOMALY.encode(fleet))[scored.index]
    assert not degraded and np.abs(online).max() > 1.0  # real deviations, not warm-up zeros
    np.testing.assert_array_equal(online, offline)


def test_late_rows_do_not_move_a_baseline(db_settings):
    fleet = _fleet(WARMUP + 5, "2026-05-10")
    ordered = fleet.sort_values("ts")
    newest, older = ordered.tail(len(ordered) // 2), ordered.head(len(ordered) // 2)

    async def scenario():
        service = IngestService(db_settings)
        try:
            first = await service.telemetry(json_body(newest), "application/json")
            second = await service.telemetry(json_body(older), "application/json")
        finally:
            await service.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first.baselines_updated == len(newest)
    assert second.accepted == len(older) and second.baselines_updated == 0


def test_baselines_expire(db_settings):
    fleet = _fleet(3, "2026-05-20")

    async def scenario():
        service = IngestService(db_settings)
        try:
            await service.telemetry(json_body(fleet), "application/json")
        finally:
            await service.close()
        return service.online.key(fleet["entity_id"][0])

    key = asyncio.run(scenario())
    ttl = redis.Redis.from_url(db_settings.redis_url).ttl(key)
    assert 0 < ttl <= db_settings.online_ttl_s


def test_without_redis_scoring_degrades_and_ingest_still_stores(db_settings):
    down = db_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    fleet = _fleet(4, "2026-05-25")
    calls = []

    async def scenario():
        online = OnlineFeatures(down, on_degraded=lambda: calls.append(1))
        X = ANOMALY.encode(fleet)
        Z, degraded = await online.zscores(fleet["entity_id"].tolist(), X)
        started = time.perf_counter()
        _, again = await online.zscores(fleet["entity_id"].tolist(), X)
        skipped_in = time.perf_counter() - started
        anonymous = await online.zscores([None] * len(fleet), X)
        service = IngestService(down, online)
        try:
            stored = await service.telemetry(json_body(fleet), "application/json")
        finally:
            await service.close()
        return Z, degraded, again, skipped_in, anonymous[1], stored

    Z, degraded, again, skipped_in, anonymous, stored = asyncio.run(scenario())
    assert degraded and again and not anonymous
    assert not Z.any() and skipped_in < 0.01 and len(calls) == 2
    assert stored.accepted == len(fleet) and stored.degraded and stored.baselines_updated == 0


def test_a_redis_outage_mid_stream_loses_no_row_and_the_flag_clears(db_settings):
    fleet = _fleet(60, "2026-06-01")
    batches = np.array_split(np.arange(len(fleet)), 6)

    async def scenario():
        proxy, settings = await redis_behind_proxy(db_settings, redis_retry_s=0.2)
        service = IngestService(settings)
        flags = []
        try:
            for i, rows in enumerate(batches):
                if i == 2:
                    await proxy.cut()
                if i == 4:
                    await proxy.restore()
                    await asyncio.sleep(0.3)  # past the retry window
                part = fleet.iloc[rows]
                answer = await service.telemetry(json_body(part), "application/json")
                _, degraded = await service.online.zscores(
                    part["entity_id"].tolist(), ANOMALY.encode(part)
                )
                flags.append((answer.accepted, answer.degraded, degraded))
        finally:
            await service.close()
            await proxy.cut()
        return flags

    flags = asyncio.run(scenario())
    assert [f[1] for f in flags] == [False, False, True, True, False, False]
    assert [f[2] for f in flags] == [False, False, True, True, False, False]
    assert sum(f[0] for f in flags) == len(fleet)
    assert asyncio.run(_count(db_settings, fleet["ts"].min().to_pydatetime())) == len(fleet)


def test_after_an_outage_one_read_probes_redis_and_no_dead_connection_is_reused(db_settings):
    fleet = _fleet(3, "2026-06-05")
    entities = fleet["entity_id"].tolist()
    X = ANOMALY.encode(fleet)

    async def scenario():
        proxy, settings = await redis_behind_proxy(db_settings, redis_retry_s=0.2)
        online = OnlineFeatures(settings.model_copy(update={"online_cache_s": 0.0}))
        reads = lambda n: asyncio.gather(*(online.zscores(entities, X) for _ in range(n)))  # noqa: E731
        try:
            await reads(16)  # the pool holds several connections
            pooled = proxy.accepted
            await proxy.cut()  # each one is reset
            cut = [d for _, d in await reads(4)]
            await proxy.restore()
            await asyncio.sleep(0.3)  # past the retry window
            before = proxy.accepted
            probe = [d for _, d in await reads(16)]
            probed_with = proxy.accepted - before
            after = [d for _, d in await reads(16)]
        finally:
            await online.close()
            await proxy.cut()
        return pooled, cut, probe, probed_with, after

    pooled, cut, probe, probed_with, after = asyncio.run(scenario())
    assert pooled > 1 and all(cut)
    assert probe.count(False) == 1 and probed_with == 1  # one probe, the rest at once
    assert not any(after)  # no reset connection left in the pool to fail later


async def _count(settings, since: datetime) -> int:
    conn = await connect(settings)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM telemetry WHERE ts >= $1", since.replace(tzinfo=UTC)
        )
    finally:
        await conn.close()


def test_baselines_rebuilt_from_postgres_equal_the_live_ones(db_settings):
    fleet = _fleet(40, "2026-06-10")
    fleet["entity_id"] = "rebuilt-" + fleet["entity_id"].astype(str)  # no other test's history
    scored = fleet[fleet["ts"] == fleet["ts"].max()]
    history = fleet.drop(index=scored.index)

    async def scenario():
        service = IngestService(db_settings)
        try:
            await service.telemetry(json_body(history), "application/json")
            X, ids = ANOMALY.encode(scored), scored["entity_id"].tolist()
            live, _ = await service.online.zscores(ids, X)
            await service.online.forget()
            rows, entities, written = await rebuild_baselines(
                db_settings, datetime(2026, 6, 10, tzinfo=UTC)
            )
            rebuilt, _ = await service.online.zscores(ids, X)
            again = await rebuild_baselines(db_settings, datetime(2026, 6, 10, tzinfo=UTC))
        finally:
            await service.close()
        return live, rebuilt, (rows, entities, written), again

    live, rebuilt, counts, again = asyncio.run(scenario())
    assert counts == (len(history), 8, 8) and again[2] == 0  # nothing newer to write
    assert np.abs(live).max() > 0
    np.testing.assert_array_equal(rebuilt, live)


def test_a_baseline_read_is_reused_for_the_cache_time_only(db_settings):
    fleet = _fleet(WARMUP + 10, "2026-06-20")
    fleet["entity_id"] = "cached-" + fleet["entity_id"].astype(str)
    last = fleet["ts"] == fleet["ts"].max()
    rows = fleet[last]

    async def scenario():
        proxy, settings = await redis_behind_proxy(db_settings, online_cache_s=0.5)
        service = IngestService(settings)
        ids, X = rows["entity_id"].tolist(), ANOMALY.encode(rows)
        try:
            await service.telemetry(json_body(fleet[~last]), "application/json")
            fresh = await service.online.zscores(ids, X)
            await proxy.cut()
            cached = await service.online.zscores(ids, X)
            await asyncio.sleep(0.6)
            expired = await service.online.zscores(ids, X)
        finally:
            await service.close()
        return fresh, cached, expired

    (fresh, degraded), (cached, cached_degraded), (_, expired_degraded) = asyncio.run(scenario())
    assert not degraded and not cached_degraded and expired_degraded
    assert np.abs(fresh).max() > 0
    np.testing.assert_array_equal(cached, fresh)
