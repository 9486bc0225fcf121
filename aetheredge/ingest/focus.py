"""FOCUS 1.x cost-and-usage exports into ``cost_usage``: the cost model's real bills.

FOCUS (the FinOps Open Cost and Usage Specification) is the common export format of the
large clouds. Each export row is one charge: ``BilledCost`` in ``BillingCurrency`` for
``ConsumedQuantity`` of ``ConsumedUnit`` of a ``ServiceCategory`` in ``RegionId``, over
``[ChargePeriodStart, ChargePeriodEnd)``, priced per ``PricingCategory``. This module
keeps usage charges in USD, sorts each quantity into the model's usage columns by its
unit, and sums them per workload (``ResourceId``; ``SubAccountId/ServiceName`` when a
charge names no resource) and UTC day, so a day's bill of a workload is one training
row. Rows it cannot use are counted by reason, never silently dropped. Loading is
idempotent: a workload-day already stored is left as it is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from aetheredge.kinds.cost import (
    COST_CATEGORICAL,
    COST_NUMERIC,
    COST_TARGET,
    INSTANCE_FAMILIES,
    REGIONS,
)
from aetheredge.settings import Settings
from aetheredge.stores.postgres.writer import Database

REQUIRED = (
    "BilledCost",
    "BillingCurrency",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ServiceCategory",
    "RegionId",
)
COLUMNS = (
    "period_start",
    "workload_id",
    *(f.name for f in COST_NUMERIC),
    *(c.name for c in COST_CATEGORICAL),
    COST_TARGET.name,
    "source",
)
# ConsumedUnit (lower case, spaces and underscores as '-') -> (usage column, multiplier)
UNITS: list[tuple[re.Pattern[str], str, float]] = [
    (re.compile(r"^vcpu-?hours?$"), "vcpu_hours", 1.0),
    (re.compile(r"^gpu-?hours?$"), "gpu_hours", 1.0),
    (re.compile(r"^gi?b-?hours?$"), "memory_gib_hours", 1.0),
    (re.compile(r"^gi?b-?(mo|month|months)$"), "storage_gib_month", 1.0),
    (re.compile(r"^requests?$"), "requests", 1.0),
    (re.compile(r"^(1k|thousand)-?requests?$"), "requests", 1e3),
    (re.compile(r"^(1m|million)-?requests?$"), "requests", 1e6),
]
PRICING = {"standard": "on-demand", "dynamic": "spot", "committed": "reserved"}
FAMILY_COLUMNS = ("x_InstanceFamily", "InstanceFamily")


@dataclass
class FocusLoad:
    """Training rows built from an export, and the export rows left out, by reason."""

    frame: pd.DataFrame
    charges: int
    skipped: Counter = field(default_factory=Counter)


def read_export(path: Path) -> pd.DataFrame:
    """A FOCUS export from CSV or Parquet."""
    if path.suffix.lower() == ".parquet":
        return pq.read_table(path).to_pandas()
    return pd.read_csv(path, low_memory=False)


def _usage_column(unit: pd.Series, category: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    normal = unit.fillna("").str.strip().str.lower().str.replace(r"[\s_]+", "-", regex=True)
    column = np.full(len(unit), "", dtype=object)
    scale = np.ones(len(unit))
    for pattern, name, factor in UNITS:
        hit = normal.str.match(pattern).to_numpy() & (column == "")
        column[hit], scale[hit] = name, factor
    egress = normal.isin(["gb", "gib"]).to_numpy() & (category == "Networking").to_numpy()
    column[egress & (column == "")] = "egress_gib"
    return column, scale


def convert(export: pd.DataFrame) -> FocusLoad:
    """Sum an export's usage charges into one cost row per workload and UTC day."""
    missing = [c for c in REQUIRED if c not in export.columns]
    if missing:
        raise ValueError(f"not a FOCUS export: it lacks {missing}")
    skipped: Counter = Counter()
    rows = export
    if "ChargeCategory" in rows:
        usage = rows["ChargeCategory"].eq("Usage")
        skipped["not a usage charge (purchase, tax, credit, adjustment)"] += int((~usage).sum())
        rows = rows[usage]
    usd = rows["BillingCurrency"].eq("USD")
    skipped["billed in a currency other than USD"] += int((~usd).sum())
    rows = rows[usd]
    known = rows["RegionId"].isin(REGIONS)
    skipped[f"region outside {list(REGIONS)}"] += int((~known).sum())
    rows = rows[known].copy()
    start = pd.to_datetime(rows["ChargePeriodStart"], utc=True, errors="coerce", format="ISO8601")
    cost = pd.to_numeric(rows["BilledCost"], errors="coerce")
    quantity = pd.to_numeric(rows["ConsumedQuantity"], errors="coerce").fillna(0.0)
    bad = start.isna() | cost.isna() | (cost < 0) | (quantity < 0)
    skipped["unreadable time, cost or quantity"] += int(bad.sum())
    rows, start, cost, quantity = rows[~bad], start[~bad], cost[~bad], quantity[~bad]

    column, scale = _usage_column(rows["ConsumedUnit"], rows["ServiceCategory"])
    resource = rows["ResourceId"] if "ResourceId" in rows else pd.Series(np.nan, rows.index)
    fallback = rows.get("SubAccountId", pd.Series("", rows.index)).fillna("").astype(str)
    fallback = fallback + "/" + rows.get("ServiceName", rows["ServiceCategory"]).astype(str)
    charges = pd.DataFrame(
        {
            "workload_id": resource.where(resource.notna() & (resource != ""), fallback).astype(
                str
            ),
            "period_start": start.dt.floor("D"),
            "column": column,
            "amount": quantity.to_numpy() * scale,
            "cost": cost.to_numpy(),
            "region": rows["RegionId"].to_numpy(),
            "pricing_model": rows.get("PricingCategory", pd.Series("", rows.index))
            .fillna("")
            .str.lower()
            .map(PRICING)
            .fillna("on-demand")
            .to_numpy(),
            "family": _family(rows).to_numpy(),
        }
    )
    keys = ["workload_id", "period_start"]
    amounts = (
        charges[charges["column"] != ""]
        .pivot_table(index=keys, columns="column", values="amount", aggfunc="sum")
        .reindex(columns=[f.name for f in COST_NUMERIC], fill_value=0.0)
    )
    # A workload-day's region, pricing and family: those of its largest charge.
    main = charges.sort_values("cost").groupby(keys).last()[["region", "pricing_model", "family"]]
    total = charges.groupby(keys)["cost"].sum().rename(COST_TARGET.name)
    frame = main.join(total).join(amounts).fillna(0.0).reset_index()
    frame["instance_family"] = np.where(frame["gpu_hours"] > 0, "gpu", frame.pop("family"))
    frame["source"] = "focus"
    return FocusLoad(frame[list(COLUMNS)], len(export), skipped)


def _family(rows: pd.DataFrame) -> pd.Series:
    for name in FAMILY_COLUMNS:
        if name in rows:
            value = rows[name].astype(str).str.lower()
            return value.where(value.isin(INSTANCE_FAMILIES), "general")
    return pd.Series("general", index=rows.index)


def records(frame: pd.DataFrame) -> list[tuple]:
    """Rows for COPY, in :data:`COLUMNS` order."""
    out = frame.copy()
    out["period_start"] = out["period_start"].dt.to_pydatetime()
    return list(out[list(COLUMNS)].astype(object).itertuples(index=False, name=None))


async def store(settings: Settings, load: FocusLoad) -> int:
    """Write the rows into ``cost_usage``; returns how many were new."""
    database = Database(settings)
    try:
        writer = await database.writer("cost_usage", COLUMNS)
        return await writer.write(records(load.frame))
    finally:
        await database.close()
