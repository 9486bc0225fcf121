"""FOCUS exports into cost_usage: units sorted, days summed, the unusable counted."""

import asyncio
import json
from decimal import Decimal

import pandas as pd
import pytest
from typer.testing import CliRunner

from aetheredge.cli.main import app
from aetheredge.datasets.bills import focus_bill
from aetheredge.focus import convert, read
from aetheredge.ingest.focus import Stored, store
from aetheredge.stores.postgres import connect
from tests.support.focus import PROVIDERS, charge, export


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
    load = convert(read(_export()))
    frame = load.frame.set_index("workload_id")
    assert sorted(frame.index) == ["acct-1/API Gateway", "bucket-1", "g-1", "i-1", "i-3", "nat-1"]
    vm = frame.loc["i-1"]
    assert vm.vcpu_hours == 8.0
    assert vm.memory_gib_hours == pytest.approx(16e9 / 2**30)  # GB-Hours: 10⁹ bytes
    assert vm.billed_cost == pytest.approx(0.45)
    assert frame.loc["i-3"].region == "mars-north-1"  # any region is read
    assert frame.loc["bucket-1"].storage_gib_month == pytest.approx(100e9 / 2**30)
    assert frame.loc["nat-1"].egress_gib == pytest.approx(50e9 / 2**30)  # GB, not GiB
    gpu = frame.loc["g-1"]
    assert (gpu.gpu_hours, gpu.pricing_category, gpu.service_category) == (
        2.0,
        "Dynamic",
        "AI and Machine Learning",
    )
    assert frame.loc["acct-1/API Gateway"].requests == 5000.0
    assert sum(load.skipped.values()) == 2 and load.charges == 10  # the tax, the EUR charge


async def _totals(settings, account: str) -> tuple[dict, float]:
    """The stored charges of billing ``account`` (billed cost and count) by provider
    and billing month, and the cost of their workload-days."""
    conn = await connect(settings)
    try:
        charges = await conn.fetch(
            "SELECT provider, billing_period_start, sum(billed_cost) AS billed, count(*) AS n "
            "FROM focus_charges WHERE billing_account_id = $1 GROUP BY 1, 2",
            account,
        )
        days = await conn.fetchval(
            "SELECT sum(billed_cost) FROM cost_usage WHERE billing_scope LIKE $1",
            f"%|{account}|%",
        )
    finally:
        await conn.close()
    by = {
        (r["provider"], r["billing_period_start"].month): (float(r["billed"]), r["n"])
        for r in charges
    }
    return by, float(days or 0.0)


def _store(settings, frame) -> Stored:
    charges = read(frame)
    return asyncio.run(store(settings, charges, convert(charges)))


def test_storing_twice_changes_nothing_and_a_restated_period_replaces_its_charges(db_settings):
    july = charge(
        ResourceId="vm-7",
        BillingPeriodStart="2026-07-01T00:00:00Z",
        BillingPeriodEnd="2026-08-01T00:00:00Z",
        ChargePeriodStart="2026-07-31T10:00:00Z",
        ChargePeriodEnd="2026-07-31T11:00:00Z",
        BilledCost=0.7,
        BillingAccountId="restated",
    )
    first = _export().assign(BillingAccountId="restated")
    stored = _store(db_settings, export(*first.to_dict("records"), july))
    before = asyncio.run(_totals(db_settings, "restated"))
    again = _store(db_settings, export(*first.to_dict("records"), july))
    assert asyncio.run(_totals(db_settings, "restated")) == before  # the same file changes nothing
    assert again.replaced == stored.charges == 11
    # August restated: the VM's day costs twice as much, the NAT charge is gone
    restated = first[first["ResourceId"] != "nat-1"].copy()
    restated.loc[restated["ResourceId"] == "i-1", "BilledCost"] *= 2
    _store(db_settings, restated)
    by, days = asyncio.run(_totals(db_settings, "restated"))
    august = read(restated).frame
    assert by[("AWS", 8)] == (pytest.approx(august["BilledCost"].sum()), len(august))
    assert by[("AWS", 7)] == (pytest.approx(0.7), 1)  # another billing period: untouched
    assert days == pytest.approx(convert(read(restated)).frame["billed_cost"].sum() + 0.7)


def test_the_cli_stores_a_parquet_export_and_reconciles_it_as_json(
    db_settings, tmp_path, monkeypatch
):
    path = tmp_path / "bill.parquet"
    bill = _export().assign(BillingAccountId="cli", SubAccountId="cli")
    bill.assign(ResourceId=bill["ResourceId"] + "-cli").to_parquet(path)
    result = _ingest(path, db_settings, monkeypatch)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "stored 10 charges, replacing 0 of the billing periods they restate" in said
    assert "6 workload-days" in said
    assert "the model does not learn from 1 charges: no cost in USD (and no USD" in said
    result = _ingest(path, db_settings, monkeypatch, "--json")
    report = json.loads(result.output)
    assert report["restatement"] == {"replaced_charges": 10, "charges": 10}
    assert report["stored"]["BilledCost"] == pytest.approx(report["file"]["BilledCost"])
    assert report["excluded"]["rows"] == 0


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
        (export(charge(ChargeCategory="Refund")), (), "no charge could be read; nothing stored"),
        (
            export(
                charge(BilledCost=1.0),
                charge(BilledCost="n/a"),
                charge(BilledCost=9.0, ChargePeriodStart="?"),
            ),
            (),
            "rows that cannot be read hold 90.00% of the BilledCost, more than",
        ),
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
    said = " ".join(result.output.split())
    assert "stored 2 charges" in said and "2 workload-days" in said
    assert "50% of the stored usage cost is on charges whose unit gives no usage" in said


def _month(provider: str, version: str) -> pd.DataFrame:
    """A provider's month in FOCUS ``version``: usage, a commitment bought and used, tax,
    a credit and a refund of last month's usage."""
    account = f"{provider}-{version}"
    return export(
        *(
            charge(provider, version, BillingAccountId=account, **columns)
            for columns in (
                {"BilledCost": 12.34, "EffectiveCost": 12.34},
                {
                    "ResourceId": "commitment-1",
                    "ChargeCategory": "Purchase",
                    "ChargeFrequency": "One-Time",
                    "BilledCost": 500.0,
                    "EffectiveCost": 0.0,
                    "ConsumedQuantity": None,
                    "ConsumedUnit": None,
                },
                {"PricingCategory": "Committed", "BilledCost": 0.0, "EffectiveCost": 0.41},
                {"ChargeCategory": "Tax", "BilledCost": 1.02, "EffectiveCost": 1.02, "SkuId": None},
                {"ChargeCategory": "Credit", "BilledCost": -3.0, "EffectiveCost": -3.0},
                {"ChargeClass": "Correction", "BilledCost": -0.57, "EffectiveCost": -0.57},
            )
        )
    )


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_every_providers_month_is_stored_to_the_cent_in_every_version(
    version, db_settings, tmp_path, monkeypatch
):
    path = tmp_path / f"focus-{version}.csv.gz"
    pd.concat([_month(p, version) for p in PROVIDERS], ignore_index=True).to_csv(path, index=False)
    result = _ingest(path, db_settings, monkeypatch, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["focus_version"] == version
    assert report["excluded"]["rows"] == 0
    for cost, total in (("BilledCost", 4 * 509.79), ("EffectiveCost", 4 * 10.2)):
        assert Decimal(repr(report["stored"][cost])) == Decimal(repr(total)).quantize(
            Decimal("0.01")
        )
    categories = {(g["provider"], g["charge_category"]) for g in report["by_provider_and_category"]}
    assert categories == {(p, c) for p in PROVIDERS for c in ("Usage", "Purchase", "Tax", "Credit")}
    assert report["restatement"]["charges"] == 24


def test_a_month_to_date_export_then_the_months_brings_every_total_to_the_new_files(
    db_settings, tmp_path, monkeypatch
):
    """Synthetic bills of the four providers, as a provider restates them: an export to
    the middle of day 5 (half a day still to come), then one of the whole ten days."""
    early, late = tmp_path / "early.parquet", tmp_path / "late.csv.gz"
    focus_bill(40, days=10, seed=12, through="2026-10-05T12:00:00").to_parquet(early)
    full = focus_bill(40, days=10, seed=12)
    full.to_csv(late, index=False)
    for path in (early, late, late):
        result = _ingest(path, db_settings, monkeypatch, "--json")
        assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["restatement"]["replaced_charges"] == report["restatement"]["charges"]
    accounts = sorted(full["BillingAccountId"].unique())

    async def stored():
        conn = await connect(db_settings)
        try:
            return await conn.fetch(
                "SELECT billing_account_id, sum(billed_cost) AS billed, count(*) AS n"
                " FROM focus_charges WHERE billing_account_id = ANY($1::text[]) GROUP BY 1",
                accounts,
            )
        finally:
            await conn.close()

    expected = full.groupby("BillingAccountId")["BilledCost"].agg(["sum", "size"])
    got = {r["billing_account_id"]: (float(r["billed"]), r["n"]) for r in asyncio.run(stored())}
    assert got == {
        a: (pytest.approx(expected.loc[a, "sum"], abs=1e-6), expected.loc[a, "size"])
        for a in accounts
    }
