"""Online baselines in the real Redis: parity with training's offline features, degradation."""

import asyncio
import time

import numpy as np
import orjson
import pandas as pd
import redis

from aetheredge.cluster import free_port
from aetheredge.derived import WARMUP, derive
from aetheredge.features import anomaly_matrix
from aetheredge.ingest import IngestService
from aetheredge.online import OnlineFeatures
from aetheredge.synthetic import telemetry
from aetheredge.telemetry import TELEMETRY_COLUMNS


def _fleet(steps: int, start: str) -> pd.DataFrame:
    frame = telemetry(8 * steps, steps_per_entity=steps, seed=6, start=start, incident_rate=0.05)
    return frame[list(TELEMETRY_COLUMNS)].reset_index(drop=True)


def _json(frame: pd.DataFrame) -> bytes:
    out = frame.assign(ts=frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return orjson.dumps({"rows": out.to_dict("records")})


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
            answers = [await service.telemetry(_json(b), "application/json") for b in batches]
            X = anomaly_matrix(scored)
            online, degraded = await service.online.zscores(scored["entity_id"].tolist(), X)
        finally:
            await service.close()
        return answers, online, degraded

    answers, online, degraded = asyncio.run(scenario())
    assert answers[3].baselines_updated == 0 and answers[3].duplicates == len(batches[3])
    assert sum(a.baselines_updated for a in answers) == len(history)
    offline = derive(fleet)[scored.index]
    assert not degraded and np.abs(online).max() > 1.0  # real deviations, not warm-up zeros
    np.testing.assert_array_equal(online, offline)


def test_late_rows_do_not_move_a_baseline(db_settings):
    fleet = _fleet(WARMUP + 5, "2026-05-10")
    ordered = fleet.sort_values("ts")
    newest, older = ordered.tail(len(ordered) // 2), ordered.head(len(ordered) // 2)

    async def scenario():
        service = IngestService(db_settings)
        try:
            first = await service.telemetry(_json(newest), "application/json")
            second = await service.telemetry(_json(older), "application/json")
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
            await service.telemetry(_json(fleet), "application/json")
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
        X = anomaly_matrix(fleet)
        Z, degraded = await online.zscores(fleet["entity_id"].tolist(), X)
        started = time.perf_counter()
        _, again = await online.zscores(fleet["entity_id"].tolist(), X)
        skipped_in = time.perf_counter() - started
        anonymous = await online.zscores([None] * len(fleet), X)
        service = IngestService(down, online)
        try:
            stored = await service.telemetry(_json(fleet), "application/json")
        finally:
            await service.close()
        return Z, degraded, again, skipped_in, anonymous[1], stored

    Z, degraded, again, skipped_in, anonymous, stored = asyncio.run(scenario())
    assert degraded and again and not anonymous
    assert not Z.any() and skipped_in < 0.01 and len(calls) == 2
    assert stored.accepted == len(fleet) and stored.degraded and stored.baselines_updated == 0
