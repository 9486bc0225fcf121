"""The FOCUS reader follows the specification: its versions' columns, its units, the
SKU facts of FOCUS 1.1+, and what each provider leaves out."""

from decimal import Decimal

import numpy as np
import pytest

from aetheredge.focus import FocusError, convert, read, read_export, reconcile, spec
from aetheredge.focus.units import Unit, parse
from aetheredge.focus.usage import Facts, direction, per_unit
from tests.support.focus import PROVIDERS, charge, export

GIB_PER_GB = 1e9 / 2**30
NETTED = "a resource's day that nets to no cost after its refunds and corrections"
ACCOUNTS = "an account's charge (purchase, tax, credit, adjustment), not a resource's"


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("GB", Unit("bytes", 1e9)),
        ("GiB", Unit("bytes", 2.0**30)),
        ("Gb", Unit("bytes", 1e9 / 8)),  # a gigabit
        ("TB", Unit("bytes", 1e12)),
        ("Hours", Unit("hours", 1.0)),
        ("GB-Hours", Unit("bytes", 1e9, hours=1.0)),
        ("GB-Months", Unit("bytes", 1e9, hours=730.0)),
        ("GB-Mo", Unit("bytes", 1e9, hours=730.0)),
        ("vCPU-Hours", Unit("vcpu", 1.0, hours=1.0)),
        ("OCPU Hours", Unit("ocpu", 1.0, hours=1.0)),
        ("1000 Requests", Unit("request", 1000.0)),
        ("1K Requests", Unit("request", 1000.0)),
        ("Requests/Day", Unit("request", 1.0, per_hours=24.0)),
        ("Units/3 Months", Unit("unit", 1.0, per_hours=2190.0)),
        ("1000 Tokens", Unit("token", 1000.0)),
    ],
)
def test_units_are_read_by_the_unit_format(text, unit):
    assert parse(text) == unit


def test_the_version_is_the_newest_whose_columns_the_file_holds():
    assert spec.version(charge(version="1.0")) == "1.0"
    assert spec.version(charge(version="1.1")) == "1.1"
    assert spec.version(charge(version="1.2")) == "1.2"
    # Microsoft's 1.0 exports carry BillingAccountType already: still 1.0
    assert spec.version([*charge(version="1.0"), "BillingAccountType"]) == "1.0"
    assert spec.version(charge(version="1.2"), declared="1.1") == "1.1"
    assert len(spec.columns("1.0")) == 43 and len(spec.columns("1.2")) == 57


def test_conditional_columns_may_be_absent_and_mandatory_ones_may_not():
    row = charge()
    for conditional in ("RegionId", "RegionName", "ConsumedQuantity", "ConsumedUnit"):
        del row[conditional]
    assert spec.version(row) == "1.2"
    del row["ChargeCategory"], row["EffectiveCost"]
    with pytest.raises(FocusError, match=r"lacks the mandatory column\(s\) ChargeCategory, Effect"):
        spec.version(row)


@pytest.mark.parametrize(
    ("columns", "declared", "message"),
    [
        (["ChargeType", "AmortizedCost", "BilledCost"], None, "a FOCUS 0.5 export"),
        (["UsageQuantity", "UsageUnit", "BilledCost"], None, "a FOCUS 1.0-preview export"),
        (list(charge()), "0.9", "FOCUS 0.9 is not read here"),
    ],
)
def test_other_versions_are_refused_in_one_line(columns, declared, message):
    with pytest.raises(FocusError, match=message) as refused:
        spec.version(columns, declared)
    assert "\n" not in str(refused.value)


def test_an_instance_hour_counts_its_cores_memory_and_gpus_from_the_sku_facts():
    facts = Facts.of('{"CoreCount": 4, "MemorySize": 16, "GpuCount": 1, }')  # the spec's comma
    assert per_unit(parse("Hours"), "Compute", None, facts) == {
        "vcpu_hours": 4.0,
        "memory_gib_hours": 16.0,
        "gpu_hours": 1.0,
    }
    assert Facts.of(None, '{"VCPUs": 2}').cores == 2.0  # Microsoft's x_SkuDetails
    assert per_unit(parse("Hours"), "Compute", None, Facts()) == {}  # no facts, no usage


def test_data_is_egress_only_going_out_and_gb_is_not_gib():
    out = direction(["Data Transfer Out to Internet"])
    inbound = direction(["USE1-DataTransfer-In-Bytes"])
    assert (out, inbound, direction(["Compute usage"])) == ("out", "in", None)
    assert per_unit(parse("GB"), "Compute", out, Facts()) == {"egress_gib": GIB_PER_GB}
    assert per_unit(parse("GB"), "Networking", inbound, Facts()) == {}
    assert per_unit(parse("GB"), "Networking", None, Facts()) == {"egress_gib": GIB_PER_GB}
    assert per_unit(parse("GB-Months"), "Storage", None, Facts()) == {
        "storage_gib_month": GIB_PER_GB
    }
    assert per_unit(parse("OCPU Hours"), "Compute", None, Facts()) == {"vcpu_hours": 2.0}


def test_every_providers_instance_hours_become_usage_and_the_rest_is_reported():
    rows = [charge(p, ResourceId=f"vm-{p}") for p in PROVIDERS]
    rows += [
        charge(
            ResourceId="gpu-1",
            BilledCost=1.2,
            SkuPriceDetails='{"CoreCount": 4, "MemorySize": 16, "GpuCount": 1}',
        ),
        charge(
            ResourceId="nat-1",
            ServiceCategory="Networking",
            ConsumedQuantity=50,
            ConsumedUnit="GB",
            BilledCost=4.5,
            SkuPriceDetails=None,
        ),
        charge(ResourceId="support", ConsumedUnit="Count", BilledCost=3.0, EffectiveCost=3.0),
        charge(ResourceId="vm-1", ChargeCategory="Tax", BilledCost=0.02),
    ]
    charges = read(export(*rows))
    load = convert(charges)
    frame = load.frame.set_index("workload_id")
    assert charges.version == "1.2" and load.charges == 8
    assert list(frame.loc[[f"vm-{p}" for p in PROVIDERS], "provider"]) == list(PROVIDERS)
    vm = frame.loc["vm-AWS"]
    assert (vm.vcpu_hours, vm.memory_gib_hours, vm.cores, vm.memory_gib) == (4.0, 16.0, 4.0, 16.0)
    assert (frame.loc["gpu-1"].gpu_hours, frame.loc["gpu-1"].gpus) == (1.0, 1.0)
    assert frame.loc["nat-1"].egress_gib == pytest.approx(50 * GIB_PER_GB)
    assert frame.loc["vm-Oracle"].region is None  # no RegionId: read as "global"
    assert frame.loc["vm-Microsoft"].region == "eastus"  # every region is read
    assert load.unmeasured == {"Count": 3.0}
    assert load.skipped[ACCOUNTS] == 1


def test_exports_are_read_from_csv_gzip_parquet_and_folders_of_parts(tmp_path):
    frame = export(charge(ResourceId="a"), charge(ResourceId="b"))
    parts = tmp_path / "export"
    parts.mkdir()
    frame.iloc[:1].to_csv(parts / "part-0.csv.gz", index=False)
    frame.iloc[1:].to_parquet(parts / "part-1.parquet")
    parts_read = read_export(parts)
    assert sorted(parts_read["ResourceId"]) == ["a", "b"]
    assert convert(read(parts_read)).frame["vcpu_hours"].sum() == 8.0
    (tmp_path / "empty").mkdir()
    with pytest.raises(FocusError, match="holds no"):
        read_export(tmp_path / "empty")


def _bill():
    """Charges of every category, a refund, a correction, two currencies, and rows
    that cannot be charges."""
    return export(
        charge(BilledCost=10.10, EffectiveCost=7.07),
        charge(
            ResourceId="ri",
            ChargeCategory="Purchase",
            BilledCost=100.0,
            EffectiveCost=0.0,
            ChargeFrequency="One-Time",
            ConsumedQuantity=None,
            ConsumedUnit=None,
        ),
        charge(ChargeCategory="Tax", BilledCost=0.81, EffectiveCost=0.81, SkuId=None),
        charge(ChargeCategory="Credit", BilledCost=-5.0, EffectiveCost=-5.0),
        charge(BilledCost=-1.10, EffectiveCost=-1.10, ChargeClass="Correction"),
        charge("Microsoft", BilledCost=3.33, EffectiveCost=3.33, BillingCurrency="EUR"),
        charge("Oracle", ResourceId="ora-1", BilledCost=2.22, EffectiveCost=2.22),
        charge(ChargeCategory="Refund", BilledCost=4.44, EffectiveCost=4.44),
        charge(BilledCost="n/a", EffectiveCost=1.0),
        charge(ChargePeriodStart="yesterday", BilledCost=0.5, EffectiveCost=0.5),
    )


def test_only_rows_that_cannot_be_charges_are_left_out_each_with_its_reason():
    charges = read(_bill())
    reasons = charges.reason[~charges.stored].to_list()
    assert reasons == [
        "ChargeCategory is not one of Usage, Purchase, Tax, Credit, Adjustment",
        "BilledCost or EffectiveCost is not a number",
        "a charge or billing period is not a time",
    ]
    assert charges.stored.sum() == 7  # refunds, credits, corrections, EUR, no region: kept


def test_stored_plus_left_out_is_the_file_to_the_cent():
    report = reconcile(read(_bill()))

    def cents(part: dict, cost: str) -> Decimal:
        return Decimal(repr(part[cost]))

    for cost in ("BilledCost", "EffectiveCost"):
        for part in (report, *report["by_provider_and_category"]):
            assert cents(part["stored"], cost) + cents(part["excluded"], cost) == cents(
                part["file"], cost
            )
    assert cents(report["file"], "BilledCost") == Decimal("115.30")  # n/a counts 0
    assert cents(report["stored"], "BilledCost") == Decimal("110.36")
    assert report["excluded_by_reason"]["BilledCost or EffectiveCost is not a number"] == {
        "rows": 1,
        "BilledCost": 0.0,
        "EffectiveCost": 1.0,
    }
    groups = {(g["provider"], g["charge_category"]) for g in report["by_provider_and_category"]}
    assert {("AWS", "Purchase"), ("Microsoft", "Usage"), ("Oracle", "Usage")} <= groups
    assert report["excluded_share"] == pytest.approx(4.94 / 127.50)


def test_the_model_learns_from_usage_in_usd_only_and_says_why_not_the_rest():
    load = convert(read(_bill()))
    assert load.skipped[ACCOUNTS] == 3
    assert load.skipped["no cost in USD (and no USD PricingCurrencyEffectiveCost)"] == 1
    frame = load.frame.set_index("workload_id")
    # the correction nets into its day: 10.10 - 1.10 billed, 7.07 - 1.10 effective
    assert frame.loc["vm-1", ["billed_cost", "effective_cost"]].tolist() == pytest.approx(
        [9.0, 5.97]
    )
    assert frame.loc["ora-1"].region is None
    assert sorted(load.frame["billing_scope"].unique()) == [
        "AWS|aws-billing-1|2026-08-01T00:00:00+00:00",
        "Oracle|oracle-billing-1|2026-08-01T00:00:00+00:00",
    ]


def test_commitments_reach_the_model_amortised_and_their_unused_share_does_not():
    rows = [
        charge(
            ResourceId="reserved",
            PricingCategory="Committed",
            CommitmentDiscountId="ri-1",
            CommitmentDiscountStatus="Used",
            BilledCost=0.0,
            EffectiveCost=0.12,
        ),
        charge(
            ResourceId=None,
            CommitmentDiscountId="ri-1",
            CommitmentDiscountStatus="Unused",
            BilledCost=0.0,
            EffectiveCost=0.03,
        ),
        charge(ResourceId="refunded", BilledCost=0.2),
        charge(
            ResourceId="refunded", BilledCost=-0.2, EffectiveCost=-0.2, ChargeClass="Correction"
        ),
        charge(  # billed in euros, priced in dollars (FOCUS 1.2)
            ResourceId="eu-vm",
            BillingCurrency="EUR",
            BilledCost=0.18,
            EffectiveCost=0.18,
            PricingCurrency="USD",
            PricingCurrencyEffectiveCost=0.2,
        ),
    ]
    rows.append(  # a larger charge than the reserved hours, on no commitment, that day
        charge(
            ResourceId="reserved", ServiceCategory="Networking", BilledCost=0.5, EffectiveCost=0.5
        )
    )
    load = convert(read(export(*rows)))
    frame = load.frame.set_index("workload_id")
    assert frame.loc["reserved", "commitment_status"] is None  # the largest charge's
    assert frame.loc["reserved", "service_category"] == "Networking"
    rows.pop()
    load = convert(read(export(*rows)))
    frame = load.frame.set_index("workload_id")
    reserved = frame.loc["reserved"]
    assert (reserved.billed_cost, reserved.effective_cost) == (0.0, 0.12)
    assert (reserved.pricing_category, reserved.commitment_status) == ("Committed", "Used")
    assert load.skipped["a commitment's unused share, which no resource used"] == 1
    assert load.skipped[NETTED] == 2
    assert "refunded" not in frame.index
    assert frame.loc["eu-vm", "effective_cost"] == 0.2 and np.isnan(
        frame.loc["eu-vm", "billed_cost"]
    )
