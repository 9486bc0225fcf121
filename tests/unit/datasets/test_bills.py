"""Synthetic FOCUS bills are FOCUS: read by the reader as real exports are, for every
version and provider, with the charges a real month holds."""

import pandas as pd
import pytest

from aetheredge.datasets.bills import PROVIDERS, cost_rows, focus_bill
from aetheredge.datasets.frames import validate_frame
from aetheredge.features.focus_values import CHARGE_CATEGORIES
from aetheredge.focus import read, spec


@pytest.mark.parametrize("version", spec.VERSIONS)
def test_a_bill_is_a_readable_export_of_its_version(version):
    bill = focus_bill(40, days=3, seed=2, version=version)
    assert {c for c in bill.columns if not c.startswith("x_")} <= set(spec.columns(version))
    charges = read(bill)
    assert charges.version == version and charges.stored.all()
    assert set(bill["ProviderName"]) == {p.name for p in PROVIDERS}
    assert set(bill["ChargeCategory"]) == set(CHARGE_CATEGORIES)
    assert set(bill["PricingCategory"].dropna()) == {"Standard", "Dynamic", "Committed"}
    assert {"USD", "EUR", "JPY"} == set(bill["BillingCurrency"])
    assert bill.loc[bill["ProviderName"].eq("Oracle"), "RegionId"].isna().any()


def test_commitments_are_paid_upfront_and_amortised_over_the_month():
    bill = focus_bill(60, days=31, seed=4)  # the whole of October
    committed = bill[bill["CommitmentDiscountId"].notna()]
    for _, account in committed.groupby("BillingAccountId"):
        purchase = account[account["ChargeCategory"].eq("Purchase")]
        usage = account[account["ChargeCategory"].eq("Usage")]
        assert (purchase["EffectiveCost"] == 0).all() and (usage["BilledCost"] == 0).all()
        assert set(usage["CommitmentDiscountStatus"]) == {"Used", "Unused"}
        paid = purchase["BilledCost"].sum()
        assert usage["EffectiveCost"].sum() == pytest.approx(paid, rel=1e-5)


def test_refunds_are_negative_corrections_of_charges_in_the_bill():
    bill = focus_bill(80, days=5, seed=5)
    refunds = bill[bill["ChargeClass"].eq("Correction")]
    assert len(refunds) and (refunds["BilledCost"] < 0).all()
    assert (refunds["PricingQuantity"] < 0).all()
    keys = ["ResourceId", "ChargePeriodStart", "SkuPriceId"]
    charged = bill[bill["ChargeClass"].isna()].set_index(keys)["BilledCost"]
    for key, cost in refunds.set_index(keys)["BilledCost"].items():
        assert cost == pytest.approx(-charged[key] / 2, abs=1e-6)


def test_a_later_export_of_the_month_restates_it():
    early = focus_bill(30, days=10, seed=6, through="2026-10-05T12:00:00")
    late = focus_bill(30, days=10, seed=6)
    first = early[early["ChargeCategory"].eq("Usage")]
    assert pd.to_datetime(first["ChargePeriodEnd"]).max() == pd.Timestamp("2026-10-05T12:00Z")
    usage = ["ResourceId", "ChargePeriodStart", "SkuPriceId", "ChargeClass", "BilledCost"]
    first = first[first["ResourceId"].notna()]
    merged = first[usage].merge(late[usage], how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # every usage charge is still there
    taxes = [b.loc[b["ChargeCategory"].eq("Tax"), "BilledCost"].sum() for b in (early, late)]
    assert taxes[1] > taxes[0]  # the month's tax, restated
    assert focus_bill(30, days=10, seed=6).equals(late)


def test_an_unknown_version_is_refused():
    with pytest.raises(ValueError, match=r"FOCUS 0\.5 is not written here"):
        focus_bill(2, days=1, version="0.5")


def test_cost_rows_are_resource_days_priced_by_the_book():
    frame = cost_rows(20_000, seed=3)
    assert len(frame) == 20_000 and frame["ts"].is_monotonic_increasing
    assert len(validate_frame("cost", frame)) == len(frame)
    assert set(frame["provider"]) == {p.name for p in PROVIDERS}
    assert (frame["cost"] == frame["effective_cost"]).all()
    vms = frame[frame["vcpu_hours"] > 0]
    unit = vms["cost"] / vms["vcpu_hours"]
    general = vms["gpus"].eq(0)
    by_pricing = unit[general].groupby(vms["pricing_category"]).median()
    assert by_pricing["Dynamic"] < by_pricing["Committed"] < by_pricing["Standard"]
    standard = general & vms["pricing_category"].eq("Standard")
    by_region = unit[standard].groupby(vms["region"]).median()
    assert by_region["sa-east-1"] > by_region["us-east-1"]
    committed = frame[frame["pricing_category"].eq("Committed")].dropna(subset="billed_cost")
    # a prepaid commitment bills nothing: what is billed is the instance's transfer out
    assert len(committed) and (committed["billed_cost"] < committed["effective_cost"] / 2).all()


def test_a_bill_of_one_resource_still_holds_every_mandatory_column():
    bill = focus_bill(1, days=1, seed=0)
    assert set(spec.MANDATORY) <= set(bill.columns)
    assert len(cost_rows(5, seed=0)) == 5
