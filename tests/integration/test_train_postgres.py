"""Retraining from PostgreSQL: parallel Ray Data reads, incident labels, a registered version."""

import asyncio
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.bills import focus_bill
from aetheredge.datasets.policy import Window
from aetheredge.datasets.postgres import dataset
from aetheredge.datasets.synthetic import telemetry
from aetheredge.focus import convert, read
from aetheredge.ingest.focus import store
from aetheredge.ingest.telemetry import validate
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.lifecycle import events
from aetheredge.stores.postgres import connect
from aetheredge.stores.postgres.writer import Database
from train.pipeline import retrain

pytestmark = pytest.mark.integration
WINDOW = Window(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 20, tzinfo=UTC))


def _incidents(fleet: pd.DataFrame) -> list[tuple]:
    """The fleet's labelled rows as (entity, start, end) windows, one per run."""
    windows = []
    step = fleet["ts"].drop_duplicates().sort_values().diff().min()
    for entity, rows in fleet.sort_values("ts").groupby("entity_id", observed=True):
        flagged = rows.loc[rows["is_anomaly"], "ts"]
        if flagged.empty:
            continue
        run = (flagged.diff() != step).cumsum()
        for _, times in flagged.groupby(run):
            start, end = times.min(), times.max() + step
            windows.append((entity, start.tz_localize(UTC), end.tz_localize(UTC)))
    return windows


async def _store(settings, fleet: pd.DataFrame, bill: pd.DataFrame) -> int:
    """Store ``fleet``'s telemetry and its incidents, and ``bill`` as ingest stores a
    FOCUS export; the resource-days the bill gave."""
    database = Database(settings)
    try:
        batch = validate(fleet[list(TELEMETRY_COLUMNS)].copy())
        await (await database.writer("telemetry", TELEMETRY_COLUMNS)).write(
            batch.records(), batch.days()
        )
        conn = await connect(settings)
        await conn.executemany(
            "INSERT INTO incidents (entity_id, starts_at, ends_at) VALUES ($1, $2, $3)",
            _incidents(fleet),
        )
        await conn.close()
    finally:
        await database.close()
    charges = read(bill)
    return (await store(settings, charges, convert(charges))).workload_days


@pytest.fixture(scope="module")
def stored(platform):
    settings, _ = platform
    fleet = telemetry(12 * 1500, steps_per_entity=1500, seed=21, start="2026-07-02")
    fleet["entity_id"] = "pg-" + fleet["entity_id"].astype(str)
    bill = focus_bill(200, days=15, seed=5, start="2026-07-01")
    return fleet, asyncio.run(_store(settings, fleet, bill))


def test_reads_split_into_parallel_tasks_by_entity_hash(platform, stored):
    settings, _ = platform
    fleet, resource_days = stored
    for kind, expected in (("anomaly", len(fleet)), ("cost", resource_days)):
        ds = dataset(kind, settings, WINDOW.since, WINDOW.until, tasks=4).materialize()
        assert ds.num_blocks() == 4, f"{kind}: read_sql fell back to one task"
        assert ds.count() == expected
    labelled = dataset("anomaly", settings, WINDOW.since, WINDOW.until, 4).to_pandas()
    assert labelled["is_anomaly"].sum() == fleet["is_anomaly"].sum()


def test_retrain_from_postgres_registers_a_version_judged_on_stored_labels(platform, stored):
    settings, _ = platform
    fleet, _ = stored
    result = retrain(
        "anomaly",
        source="postgres",
        window=WINDOW,
        rows=len(fleet),
        workers=2,
        params={"n_estimators": 20},
        settings=settings,
    )
    assert result.rows == pytest.approx(0.8 * len(fleet), rel=0.01)
    assert result.metrics["roc_auc"] > 0.85 and np.isfinite(result.metrics["f1"])
    run = Registry(settings).client.get_run(result.candidate.run_id)
    assert run.data.params["evaluated_on"] == "postgres"
    assert run.data.params["source"] == "postgres"


def test_a_retrain_on_bills_the_past_cannot_price_is_refused_by_a_floor(platform):
    """The case a real bill found: stored rows that cannot support a model. Here every
    price rose tenfold in the hold-out days, so nothing fitted on the days before can
    price them: R² < 0, and nothing is promoted, with the floor named in MLflow and in
    model_events."""
    settings, _ = platform
    bill = focus_bill(60, days=15, seed=8, start="2026-08-01")
    late = pd.to_datetime(bill["ChargePeriodStart"]) >= pd.Timestamp("2026-08-13", tz=UTC)
    for cost in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        bill.loc[late, cost] *= 10
    bill.loc[late, "PricingCurrencyEffectiveCost"] *= 10
    charges = read(bill)
    asyncio.run(store(settings, charges, convert(charges)))
    august = Window(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 8, 16, tzinfo=UTC))
    result = retrain(
        "cost", source="postgres", window=august, rows=10_000, workers=1, settings=settings
    )
    assert not result.promoted and result.metrics["r2"] < 0
    assert "misses ≥ 0 (the floor)" in result.decision.reason
    run = Registry(settings).client.get_run(result.candidate.run_id).data
    assert run.tags["aetheredge.decision"] == "rejected"
    assert run.params["label_basis"] == "effective"
    (event,) = events.recent(settings, "cost", 1)
    assert (event.event, event.version) == ("rejection", result.candidate.version)
    missed = [f for f in event.details["floors"] if not f["passed"]]
    assert (missed[0]["metric"], missed[0]["against"]) == ("r2", "floor")
