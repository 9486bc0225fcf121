"""Stored FOCUS charges into ``cost_usage``: one training row per workload and UTC day.

Each charge is ``BilledCost`` in ``BillingCurrency`` over ``[ChargePeriodStart,
ChargePeriodEnd)``. Of the stored charges (:mod:`~aetheredge.ingest.focus.charges`),
this module keeps the usage charges in USD in the cost model's regions, turns each
one's quantity into the model's usage columns (:mod:`~aetheredge.ingest.focus.usage`),
and sums them per workload (``ResourceId``; ``SubAccountId/ServiceName`` when a charge
names no resource) and UTC day. The charges the model does not learn from are counted
by reason, and the cost of usage charges whose unit gives no usage is reported by unit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aetheredge.ingest.focus.charges import Charges
from aetheredge.ingest.focus.usage import DIRECTION_COLUMNS, Facts, direction, per_unit, unit_of
from aetheredge.kinds.cost import COST_CATEGORICAL, COST_NUMERIC, COST_TARGET, REGIONS

COLUMNS = (
    "period_start",
    "workload_id",
    *(f.name for f in COST_NUMERIC),
    *(c.name for c in COST_CATEGORICAL),
    COST_TARGET.name,
    "source",
    "billing_scope",
)
USAGE = [f.name for f in COST_NUMERIC]
PRICING = {"Standard": "on-demand", "Dynamic": "spot", "Committed": "reserved"}


@dataclass
class FocusLoad:
    """Training rows built from an export's ``charges``, the stored charges the model
    does not learn from (by reason), and the cost of kept charges whose unit gives no
    usage (by unit)."""

    frame: pd.DataFrame
    charges: int
    skipped: Counter = field(default_factory=Counter)
    unmeasured: Counter = field(default_factory=Counter)

    @property
    def cost(self) -> float:
        return float(self.frame[COST_TARGET.name].sum())


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name] if name in rows else pd.Series(np.nan, index=rows.index, dtype=object)


def _usage(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Each charge's usage columns, instance family and unit as read. The usage per unit
    is worked out once per distinct unit, service category, direction and SKU facts."""
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
    families = np.empty(len(distinct), dtype=object)
    for index, (text, category, way, details, azure) in enumerate(distinct):
        facts = Facts.of(details, azure)
        amounts = per_unit(unit_of(text), category, way or None, facts)
        per[index] = [amounts.get(c, 0.0) for c in USAGE]
        families[index] = facts.family
    usage = pd.DataFrame(per[codes] * quantity.to_numpy()[:, None], columns=USAGE, index=rows.index)
    return usage, pd.Series(families[codes], index=rows.index), unit


def convert(charges: Charges) -> FocusLoad:
    """Sum the stored usage charges of ``charges`` into one cost row per workload and
    UTC day, each with the restatement scope of its largest charge."""
    skipped: Counter = Counter()
    rows = charges.frame[charges.stored]
    scope = charges.scopes[charges.stored]
    usage = rows["ChargeCategory"].eq("Usage")
    skipped["not a usage charge (purchase, tax, credit, adjustment)"] += int((~usage).sum())
    usd = rows["BillingCurrency"].eq("USD")
    skipped["billed in a currency other than USD"] += int((usage & ~usd).sum())
    regional = _column(rows, "RegionId").isin(REGIONS)
    skipped[f"no RegionId, or one outside the cost model's {list(REGIONS)}"] += int(
        (usage & usd & ~regional).sum()
    )
    refund = rows["BilledCost"] < 0
    skipped["a negative cost (a refund or correction)"] += int(
        (usage & usd & regional & refund).sum()
    )
    keep = usage & usd & regional & ~refund
    rows, scope = rows[keep], scope[keep]
    start, cost = rows["ChargePeriodStart"], rows["BilledCost"]

    amounts, family, unit = _usage(rows)
    unmeasured = Counter(
        cost[(amounts == 0).all(axis=1)].groupby(unit.astype(str)).sum().round(2).to_dict()
    )
    resource = _column(rows, "ResourceId")
    fallback = _column(rows, "SubAccountId").fillna("").astype(str)
    fallback = fallback + "/" + rows["ServiceName"].astype(str)
    frame = amounts.assign(
        workload_id=resource.where(resource.notna() & (resource != ""), fallback).astype(str),
        period_start=start.dt.floor("D"),
        cost=cost,
        region=rows["RegionId"],
        pricing_model=_column(rows, "PricingCategory").map(PRICING).fillna("on-demand"),
        family=family,
        billing_scope=scope,
    )
    keys = ["workload_id", "period_start"]
    totals = frame.groupby(keys)[[*USAGE, "cost"]].sum()
    # A workload-day's region, pricing, family and scope: those of its largest charge.
    main = frame.sort_values("cost").groupby(keys).last()
    main = main[["region", "pricing_model", "family", "billing_scope"]]
    days = main.join(totals.rename(columns={"cost": COST_TARGET.name})).reset_index()
    days["instance_family"] = np.where(days["gpu_hours"] > 0, "gpu", days.pop("family"))
    days["source"] = "focus"
    return FocusLoad(days[list(COLUMNS)], len(charges.frame), skipped, unmeasured)


def records(frame: pd.DataFrame) -> list[tuple]:
    """Rows for COPY, in :data:`COLUMNS` order."""
    out = frame.copy()
    out["period_start"] = out["period_start"].dt.to_pydatetime()
    return list(out[list(COLUMNS)].astype(object).itertuples(index=False, name=None))
