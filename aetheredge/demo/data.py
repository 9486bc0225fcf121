"""The demo's data-plane step: telemetry in, baselines out of Redis, predictions logged."""

from __future__ import annotations

import asyncio
import time

from rich.console import Console
from rich.table import Table

from aetheredge.api.client import ServiceClient
from aetheredge.datasets.synthetic import telemetry
from aetheredge.kinds.anomaly import ANOMALY_FEATURES
from aetheredge.kinds.anomaly import KIND as ANOMALY
from aetheredge.serving.predlog import logged_rows
from aetheredge.settings import Settings
from aetheredge.stores.online import OnlineFeatures


async def _baselines(settings: Settings, entity_ids: list[str], rows) -> tuple:
    online = OnlineFeatures(settings)
    try:
        baselines, _ = await online.baselines(entity_ids)
        Z, _ = await online.zscores(entity_ids, ANOMALY.encode(rows))
        return baselines, Z
    finally:
        await online.close()


def show_data_plane(settings: Settings, client: ServiceClient, console: Console) -> None:
    """Ingest a day of a small fleet, read its baselines back, score and find the log."""
    fleet = telemetry(8 * 288, steps_per_entity=288, seed=3, start="2026-03-02")
    fleet["entity_id"] = "demo-" + fleet["entity_id"].astype(str)
    last = fleet["ts"] == fleet["ts"].max()
    history, now = fleet[~last], fleet[last]
    answers = list(client.ingest_frame(history, batch_rows=500))
    accepted = sum(a["accepted"] for a in answers)
    console.print(
        f"POST /v1/telemetry: {accepted:,} rows in {len(answers)} Parquet batches "
        "→ PostgreSQL table telemetry (throughput: `make bench-data`)"
    )
    again = next(client.ingest_frame(history.head(500)))
    console.print(
        f"  the first batch again: accepted {again['accepted']}, duplicates "
        f"{again['duplicates']}, baselines moved {again['baselines_updated']} (idempotent)"
    )
    ids = now["entity_id"].tolist()
    baselines, Z = asyncio.run(_baselines(settings, ids, now))
    table = Table(title="Redis: each entity's EWMA baseline, and the new row's z-scores")
    for column in ("entity", "rows seen", "cpu mean", "cpu z", "latency z", "error z"):
        table.add_column(column)
    cpu, latency, errors = (
        ANOMALY_FEATURES.index(n) for n in ("cpu_util", "latency_p99_ms", "error_rate")
    )
    for i, entity in enumerate(ids):
        table.add_row(
            entity,
            str(baselines.count[i]),
            f"{baselines.mean[i, cpu]:.3f}",
            f"{Z[i, cpu]:+.2f}",
            f"{Z[i, latency]:+.2f}",
            f"{Z[i, errors]:+.2f}",
        )
    console.print(table)
    body = next(client.predict("anomaly", now.to_dict("records")))
    flagged = sum(r["is_anomaly"] for r in body["results"])
    console.print(
        f"POST /v1/anomaly/score with entity_id: v{body['version']}, degraded="
        f"{body['degraded']}, {flagged} of {len(ids)} flagged, request_id {body['request_id']}"
    )
    deadline = time.monotonic() + 15
    while (logged := asyncio.run(logged_rows(settings, body["request_id"]))) == 0:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    console.print(f"  prediction log: {logged} rows for that request in table predictions")
