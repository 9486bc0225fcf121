"""``POST /v1/telemetry`` through Serve's HAProxy ingress into the real PostgreSQL."""

import asyncio
import time
from datetime import date

import httpx
import numpy as np
import orjson
import pytest

from aetheredge import kinds
from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.synthetic import telemetry
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.serving.predlog import logged_rows
from aetheredge.stores.postgres import connect

pytestmark = pytest.mark.integration


def _stored(settings, since: date) -> int:
    async def count():
        conn = await connect(settings)
        try:
            return await conn.fetchval("SELECT count(*) FROM telemetry WHERE ts >= $1", since)
        finally:
            await conn.close()

    return asyncio.run(count())


def test_bulk_parquet_and_json_batches_are_stored_once(platform, service):
    settings, _ = platform
    fleet = telemetry(30_000, seed=9, start="2026-04-01")[list(TELEMETRY_COLUMNS)]
    # its own entities: baselines of the fleet other tests score must not move
    fleet["entity_id"] = "ingest-" + fleet["entity_id"].astype(str)
    counts = list(service.ingest_frame(fleet, batch_rows=10_000))
    sizes = [min(10_000, len(fleet) - start) for start in range(0, len(fleet), 10_000)]
    assert [c["accepted"] for c in counts] == sizes
    again = list(service.ingest_frame(fleet.head(10_000)))
    assert again[0]["accepted"] == 0 and again[0]["duplicates"] == 10_000
    rows = fleet.tail(3).assign(ts=lambda f: f["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    body = {"rows": [*rows.to_dict("records"), {**rows.iloc[0].to_dict(), "mem_util": 9}]}
    mixed = service.ingest(orjson.dumps(body))
    assert (mixed["accepted"], mixed["duplicates"], mixed["rejected"]) == (0, 3, 1)
    assert mixed["errors"] == [
        {"row": 3, "field": "mem_util", "msg": "must be finite, in [0, 1] fraction"}
    ]
    assert _stored(settings, date(2026, 4, 1)) == len(fleet)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{", "application/json", 422),
        (b"a,b\n1,2\n", "text/csv", 422),
        (b"<rows/>", "application/xml", 415),
    ],
)
def test_bad_ingest_bodies_are_4xx(service, body, content_type, status):
    with pytest.raises(httpx.HTTPStatusError) as refused:
        service.ingest(body, content_type)
    assert refused.value.response.status_code == status


def _logged(settings, request_id: str, timeout_s: float = 20.0) -> int:
    deadline = time.monotonic() + timeout_s
    while (found := asyncio.run(logged_rows(settings, request_id))) == 0:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return found


def test_served_scores_use_the_ingested_baselines_as_training_would(platform, service):
    settings, _ = platform
    fleet = telemetry(6 * 300, steps_per_entity=300, seed=12, start="2026-04-10")
    fleet["entity_id"] = "online-" + fleet["entity_id"].astype(str)
    last = fleet["ts"] == fleet["ts"].max()
    for answer in service.ingest_frame(fleet[~last]):
        assert answer["baselines_updated"] == answer["accepted"] and not answer["degraded"]
    rows = fleet[last]
    body = next(service.predict("anomaly", rows.to_dict("records")))
    assert body["degraded"] is False
    model = Registry(settings).load("anomaly", body["version"]).model
    offline = model.output(kinds.get("anomaly").model_matrix(fleet)[last.to_numpy()])
    served = np.array([r["score"] for r in body["results"]])
    np.testing.assert_allclose(served, offline, rtol=1e-4)
    anonymous = next(service.predict("anomaly", rows.drop(columns="entity_id").to_dict("records")))
    assert not np.allclose([r["score"] for r in anonymous["results"]], served)
    assert _logged(settings, body["request_id"]) == len(rows)
