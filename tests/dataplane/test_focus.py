"""FOCUS exports into cost_usage: units sorted, days summed, the unusable counted."""

import asyncio

import pandas as pd
import pytest
from typer.testing import CliRunner

from aetheredge.cli.main import app
from aetheredge.ingest.focus import convert, store
from aetheredge.stores.postgres import connect
from tests.support.focus import charge, export


def _export() -> pd.DataFrame:
    rows = [
        ("i-1", "2026-08-01T10:00:00Z", "Compute", "EC2", 4, "vCPU-Hours", 0.20, {}),
        ("i-1", "2026-08-01T10:00:00Z", "Compute", "EC2", 16, "GB-Hours", 0.05, {}),
        ("i-1", "2026-08-01T14:00:00Z", "Compute", "EC2", 4, "vCPU-Hours", 0.20, {}),
        ("bucket-1", "2026-08-01T00:00:00Z", "Storage", "S3", 100, "GB-Mo", 2.30, {}),
        ("nat-1", "2026-08-01T00:00:00Z", "Networking", "VPC", 50, "GB", 4.50, {}),
        (
            "i-2",
            "2026-08-01T00:00:00Z",
            "Compute",
            "EC2",
            8,
            "vCPU-Hours",
            0.4,
            {"BillingCurrency": "EUR"},
        ),
        (
            "i-1",
            "2026-08-01T00:00:00Z",
            "Compute",
            "EC2",
            0,
            "vCPU-Hours",
            0.03,
            {"ChargeCategory": "Tax"},
        ),
        (
            "i-3",
            "2026-08-01T00:00:00Z",
            "Compute",
            "EC2",
            8,
            "vCPU-Hours",
            0.4,
            {"RegionId": "mars-north-1"},
        ),
        (
            "g-1",
            "2026-08-02T00:00:00Z",
            "AI and Machine Learning",
            "EC2",
            2,
            "GPU-Hours",
            6.0,
            {"PricingCategory": "Dynamic"},
        ),
        ("", "2026-08-02T00:00:00Z", "Web", "API Gateway", 5, "1K Requests", 0.01, {}),
    ]
    return export(
        *(
            charge(
                version="1.0",
                SubAccountId="acct-1",
                ResourceId=resource or None,
                ChargePeriodStart=start,
                ServiceCategory=category,
                ServiceName=service,
                ConsumedQuantity=quantity,
                ConsumedUnit=unit,
                BilledCost=cost,
                **extra,
            )
            for resource, start, category, service, quantity, unit, cost, extra in rows
        )
    )


def test_charges_become_one_row_per_workload_day():
    load = convert(_export())
    frame = load.frame.set_index("workload_id")
    assert sorted(frame.index) == ["acct-1/API Gateway", "bucket-1", "g-1", "i-1", "nat-1"]
    vm = frame.loc["i-1"]
    assert vm.vcpu_hours == 8.0
    assert vm.memory_gib_hours == pytest.approx(16e9 / 2**30)  # GB-Hours: 10⁹ bytes
    assert vm.cost_usd == pytest.approx(0.45)
    assert frame.loc["bucket-1"].storage_gib_month == pytest.approx(100e9 / 2**30)
    assert frame.loc["nat-1"].egress_gib == pytest.approx(50e9 / 2**30)  # GB, not GiB
    gpu = frame.loc["g-1"]
    assert (gpu.gpu_hours, gpu.pricing_model, gpu.instance_family) == (2.0, "spot", "gpu")
    assert frame.loc["acct-1/API Gateway"].requests == 5000.0
    assert sum(load.skipped.values()) == 3 and load.charges == 10


def test_loading_twice_stores_once(db_settings):
    async def scenario():
        load = convert(_export())
        first, again = await store(db_settings, load), await store(db_settings, load)
        conn = await connect(db_settings)
        row = await conn.fetchrow("SELECT * FROM cost_usage WHERE workload_id = 'i-1'")
        await conn.close()
        return first, again, row

    first, again, row = asyncio.run(scenario())
    assert (first, again) == (5, 0)
    assert row["vcpu_hours"] == 8.0 and row["source"] == "focus"
    assert row["period_start"].isoformat() == "2026-08-01T00:00:00+00:00"


def test_the_cli_loads_a_parquet_export(db_settings, tmp_path, monkeypatch):
    path = tmp_path / "bill.parquet"
    _export().assign(ResourceId=lambda f: f["ResourceId"] + "-cli", SubAccountId="cli").to_parquet(
        path
    )
    monkeypatch.setenv("AETHER_DATABASE_URL", db_settings.database_url)
    monkeypatch.setenv("AETHER_DATABASE_SCHEMA", db_settings.database_schema)
    result = CliRunner().invoke(app, ["ingest", "focus", str(path)])
    assert result.exit_code == 0, result.output
    assert "10 charges → 5 workload-days: 5 new" in result.output
    assert "skipped 1 charges: billed in a currency other than USD" in result.output


def _ingest(path, settings, monkeypatch, *options: str, schema: str | None = None):
    monkeypatch.setenv("AETHER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AETHER_DATABASE_SCHEMA", schema or settings.database_schema)
    return CliRunner().invoke(app, ["ingest", "focus", str(path), *options])


@pytest.mark.parametrize(
    ("frame", "options", "message"),
    [
        (pd.DataFrame({"ChargeType": ["Usage"], "AmortizedCost": [1.0]}), (), "FOCUS 0.5 export"),
        (export(charge()).drop(columns=["ChargeCategory"]), (), "lacks the mandatory"),
        (export(charge()), ("--focus-version", "2.0"), "FOCUS 2.0 is not read here"),
        (export(charge(BillingCurrency="EUR")), (), "no charge could be used"),
    ],
)
def test_a_bad_export_is_one_line_and_a_failure(
    frame, options, message, db_settings, tmp_path, monkeypatch
):
    path = tmp_path / "bill.csv"
    frame.to_csv(path, index=False)
    result = _ingest(path, db_settings, monkeypatch, *options)
    assert result.exit_code == 1, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    failure = [line for line in result.output.splitlines() if line.startswith("✗")]
    assert len(failure) == 1


def test_an_unmigrated_schema_is_one_line_and_a_failure(db_settings, tmp_path, monkeypatch):
    path = tmp_path / "bill.csv"
    export(charge()).to_csv(path, index=False)
    result = _ingest(path, db_settings, monkeypatch, schema="never_migrated")
    assert result.exit_code == 1, result.output
    assert "is not migrated: run `aetheredge db migrate`" in " ".join(result.output.split())
    assert isinstance(result.exception, SystemExit)  # typer's exit, not an exception


def test_the_cli_says_how_much_cost_no_usage_explains(db_settings, tmp_path, monkeypatch):
    path = tmp_path / "bill.csv"
    rows = [charge(ResourceId="vm-9"), charge(ResourceId="lic-9", ConsumedUnit="Count")]
    export(*rows).to_csv(path, index=False)
    result = _ingest(path, db_settings, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "FOCUS 1.2: 2 charges → 2 workload-days" in result.output
    said = " ".join(result.output.split())
    assert "50% of the stored cost is on charges whose unit gives no usage" in said
