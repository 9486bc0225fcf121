"""Stored FOCUS charges into ``cost_usage``: one training row per resource and UTC day.

Of the stored charges (:mod:`~aetheredge.focus.charges`), the cost model learns
from the usage a resource made, corrections and refunds included: a day's charges are
summed, negative ones too, into its quantities per unit family
(:mod:`~aetheredge.focus.usage`) and its ``EffectiveCost`` and ``BilledCost``. The
row's categories are its largest charge's (by effective cost), its SKU's size the
largest any of its charges names. A resource is the charge's ``ResourceId``, or
``SubAccountId/ServiceName`` when it names none; every provider and region is read.

Left out of training, each counted by reason (they stay in ``focus_charges`` and in
the reconciliation): purchases, tax, credits and adjustments, which are an account's
charges, not a resource's (a commitment bought upfront reaches the model amortised,
in the ``EffectiveCost`` of the usage it covers); a commitment's unused share, which
no resource used; charges with no cost in USD, the model's currency (a bill in another
currency is read through FOCUS 1.2's ``PricingCurrencyEffectiveCost`` when its pricing
currency is USD, and then has no billed cost); and days that net to no cost. The cost
of kept charges whose unit gives no usage is reported by unit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aetheredge.focus.charges import Charges
from aetheredge.focus.usage import DIRECTION_COLUMNS, Facts, direction, per_unit, unit_of
from aetheredge.kinds.cost import COST_CATEGORICAL, KIND, QUANTITIES, SKU_FACTS

CURRENCY = "USD"
LABELS = tuple(column for _, column in KIND.bases)
COLUMNS = (
    "period_start",
    "workload_id",
    *KIND.stored_columns,
    *LABELS,
    "source",
    "billing_scope",
)
USAGE = [f.name for f in QUANTITIES]
FACTS = [f.name for f in SKU_FACTS]
# cost_usage column -> the FOCUS column of the largest charge it is read from
CATEGORIES = {
    "provider": "ProviderName",
    "region": "RegionId",
    "service_category": "ServiceCategory",
    "service_subcategory": "ServiceSubcategory",
    "pricing_category": "PricingCategory",
    "commitment_status": "CommitmentDiscountStatus",
    "charge_frequency": "ChargeFrequency",
}
# what a category outside the specification's values (the contract's) is read as
FALLBACK = {
    "service_category": "Other",
    "pricing_category": "Other",
    "charge_frequency": "Usage-Based",
}
assert set(CATEGORIES) == {c.name for c in COST_CATEGORICAL}
# What one training row is, and the key its charges are summed by besides the resource
# and the day; the model's is the first (kinds.cost says why).
GRAINS = {
    "resource-day": ("a resource's day", []),
    "sku-day": ("a resource's day at one SKU price", ["sku_price_id"]),
    "line": ("a charge line", ["line"]),
}


@dataclass
class FocusLoad:
    """Training rows built from an export's ``charges``, the stored charges the model
    does not learn from (by reason), and the cost of kept charges whose unit gives no
    usage (by unit)."""

    frame: pd.DataFrame
    charges: int
    skipped: Counter = field(default_factory=Counter)
    unmeasured: Counter = field(default_factory=Counter)


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name] if name in rows else pd.Series(np.nan, index=rows.index, dtype=object)


def _usage(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Each charge's usage columns and its SKU's size, and its unit as read. Both are
    worked out once per distinct unit, service category, direction and SKU facts."""
    metered = _column(rows, "ConsumedQuantity").notna() & _column(rows, "ConsumedUnit").notna()
    quantity = pd.to_numeric(
        _column(rows, "ConsumedQuantity").where(metered, rows["PricingQuantity"]), errors="coerce"
    ).fillna(0.0)
    unit = _column(rows, "ConsumedUnit").where(metered, rows["PricingUnit"]).fillna("").astype(str)
    texts = zip(*(_column(rows, c) for c in DIRECTION_COLUMNS), strict=True)
    keys = pd.MultiIndex.from_arrays(
        [
            unit,
            rows["ServiceCategory"].astype(str),
            [direction(list(t)) or "" for t in texts],
            _column(rows, "SkuPriceDetails").fillna("").astype(str),
            _column(rows, "x_SkuDetails").fillna("").astype(str),
        ]
    )
    codes, distinct = pd.factorize(keys)
    per = np.zeros((len(distinct), len(USAGE)))
    sizes = np.zeros((len(distinct), len(FACTS)))
    for index, (text, category, way, details, azure) in enumerate(distinct):
        facts = Facts.of(details, azure)
        amounts = per_unit(unit_of(text), category, way or None, facts)
        per[index] = [amounts.get(c, 0.0) for c in USAGE]
        sizes[index] = [facts.cores, facts.memory_gib, facts.gpus]
    usage = per[codes] * quantity.to_numpy()[:, None]
    frame = pd.DataFrame(np.hstack([usage, sizes[codes]]), columns=USAGE + FACTS, index=rows.index)
    return frame, unit


def _costs(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each charge's effective and billed cost in USD (NaN where it has none)."""
    usd = rows["BillingCurrency"].eq(CURRENCY)
    priced = _column(rows, "PricingCurrency").eq(CURRENCY)
    in_pricing = pd.to_numeric(_column(rows, "PricingCurrencyEffectiveCost"), errors="coerce")
    effective = rows["EffectiveCost"].where(usd, in_pricing.where(priced))
    return effective, rows["BilledCost"].where(usd)


def _categories(rows: pd.DataFrame) -> pd.DataFrame:
    """Each charge's categories as ``cost_usage`` keeps them: provider and region as
    the file has them, the specification's lists checked."""
    out = pd.DataFrame(index=rows.index)
    for name, column in CATEGORIES.items():
        values = _column(rows, column).astype(object)
        out[name] = values.where(values.notna(), None)
    allowed = {c.name: c.values for c in COST_CATEGORICAL}
    for name, fallback in FALLBACK.items():
        out[name] = out[name].where(out[name].isin(allowed[name]), fallback)
    return out


def convert(charges: Charges, grain: str = "resource-day") -> FocusLoad:
    """Sum the stored usage charges of ``charges`` into one cost row per resource and
    UTC day, each with the restatement scope of its largest charge. The other
    :data:`GRAINS`, a resource's day at each SKU price (``SkuPriceId``, else ``SkuId``)
    and each charge line alone, are what ``benchmarks/cost_eval.py`` measures it against."""
    what, by = GRAINS[grain]
    skipped: Counter = Counter()
    rows = charges.frame[charges.stored]
    scope = charges.scopes[charges.stored]
    usage = rows["ChargeCategory"].eq("Usage")
    skipped["an account's charge (purchase, tax, credit, adjustment), not a resource's"] += int(
        (~usage).sum()
    )
    unused = _column(rows, "CommitmentDiscountStatus").eq("Unused")
    skipped["a commitment's unused share, which no resource used"] += int((usage & unused).sum())
    effective, billed = _costs(rows)
    priced = effective.notna()
    skipped[f"no cost in {CURRENCY} (and no {CURRENCY} PricingCurrencyEffectiveCost)"] += int(
        (usage & ~unused & ~priced).sum()
    )
    keep = usage & ~unused & priced
    rows, scope, effective, billed = rows[keep], scope[keep], effective[keep], billed[keep]

    amounts, unit = _usage(rows)
    unmeasured = Counter(
        effective[(amounts[USAGE] == 0).all(axis=1)].groupby(unit).sum().round(2).to_dict()
    )
    resource = _column(rows, "ResourceId")
    fallback = _column(rows, "SubAccountId").fillna("").astype(str)
    fallback = fallback + "/" + rows["ServiceName"].astype(str)
    frame = amounts.assign(
        workload_id=resource.where(resource.notna() & (resource != ""), fallback).astype(str),
        period_start=rows["ChargePeriodStart"].dt.floor("D"),
        effective_cost=effective,
        billed_cost=billed,
        unbilled=billed.isna(),
        weight=effective.abs(),
        billing_scope=scope,
        line=np.arange(len(rows)),
        sku_price_id=_column(rows, "SkuPriceId").fillna(_column(rows, "SkuId")).fillna(""),
        **_categories(rows),
    )
    keys = ["workload_id", "period_start", *by]
    grouped = frame.groupby(keys)
    totals = grouped[[*USAGE, *LABELS, "unbilled"]].sum()
    totals["billed_cost"] = totals["billed_cost"].where(totals.pop("unbilled") == 0)
    sizes = grouped[FACTS].max().join(grouped.size().rename("charges"))
    # A resource-day's categories and scope: those of its largest charge, nulls included.
    main = frame.sort_values("weight", kind="stable").drop_duplicates(keys, keep="last")
    main = main.set_index(keys)[[*CATEGORIES, "billing_scope"]]
    days = main.join(sizes).join(totals).reset_index()
    free = days["effective_cost"] <= 0
    skipped[f"{what} that nets to no cost after its refunds and corrections"] += int(
        days.loc[free, "charges"].sum()
    )
    days = days[~free].assign(source="focus")
    days[list(USAGE)] = days[list(USAGE)].clip(lower=0.0)  # a refund beyond the day's use
    return FocusLoad(days[list(COLUMNS)], len(charges.frame), skipped, unmeasured)


def records(frame: pd.DataFrame) -> list[tuple]:
    """Rows for COPY, in :data:`COLUMNS` order."""
    out = frame.copy()
    out["period_start"] = out["period_start"].dt.to_pydatetime()
    out = out[list(COLUMNS)].astype(object)
    return list(out.where(out.notna(), None).itertuples(index=False, name=None))
