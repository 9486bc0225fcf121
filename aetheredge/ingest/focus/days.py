"""FOCUS exports into ``cost_usage``: one training row per workload and UTC day.

Each export row is one charge: ``BilledCost`` in ``BillingCurrency`` over
``[ChargePeriodStart, ChargePeriodEnd)``. This module checks the file against its FOCUS
version (:mod:`~aetheredge.ingest.focus.spec`), keeps the usage charges in USD in the
cost model's regions, turns each charge's quantity into the model's usage columns
(:mod:`~aetheredge.ingest.focus.usage`), and sums them per workload (``ResourceId``;
``SubAccountId/ServiceName`` when a charge names no resource) and UTC day. Rows it
leaves out are counted by reason, and the cost of usage charges whose unit gives no
usage is reported by unit, never silently dropped. Loading is idempotent: a
workload-day already stored is left as it is.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from aetheredge.ingest.focus import spec
from aetheredge.ingest.focus.usage import DIRECTION_COLUMNS, Facts, direction, per_unit, unit_of
from aetheredge.kinds.cost import COST_CATEGORICAL, COST_NUMERIC, COST_TARGET, REGIONS
from aetheredge.settings import Settings
from aetheredge.stores.postgres.writer import Database

COLUMNS = (
    "period_start",
    "workload_id",
    *(f.name for f in COST_NUMERIC),
    *(c.name for c in COST_CATEGORICAL),
    COST_TARGET.name,
    "source",
)
USAGE = [f.name for f in COST_NUMERIC]
PRICING = {"Standard": "on-demand", "Dynamic": "spot", "Committed": "reserved"}
SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass
class FocusLoad:
    """Training rows built from an export of FOCUS ``version``, the export rows left
    out (by reason), and the cost of kept charges whose unit gives no usage (by unit)."""

    frame: pd.DataFrame
    charges: int
    version: str
    skipped: Counter = field(default_factory=Counter)
    unmeasured: Counter = field(default_factory=Counter)

    @property
    def cost(self) -> float:
        return float(self.frame[COST_TARGET.name].sum())


def read_export(path: Path) -> pd.DataFrame:
    """A FOCUS export: CSV (gzip too) or Parquet, one file or a folder of parts."""
    if path.is_dir():
        parts = sorted(p for p in path.rglob("*") if p.name.lower().endswith(SUFFIXES))
        if not parts:
            raise spec.FocusError(f"{path} holds no {', '.join(SUFFIXES)} file")
        return pd.concat([read_export(p) for p in parts], ignore_index=True)
    if path.name.lower().endswith(".parquet"):
        return pq.read_table(path).to_pandas()
    return pd.read_csv(path, low_memory=False, compression="infer")


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name] if name in rows else pd.Series(np.nan, index=rows.index, dtype=object)


def _key_values(column: pd.Series) -> pd.Series:
    """A key-value column as JSON text: CSV holds text, Parquet may hold a map."""

    def text(value: object) -> str:
        if isinstance(value, list):  # a Parquet map: (key, value) pairs
            value = dict(value)
        return (
            json.dumps(value) if isinstance(value, dict) else "" if pd.isna(value) else str(value)
        )

    return column.map(text)


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
            _key_values(_column(rows, "SkuPriceDetails")),
            _key_values(_column(rows, "x_SkuDetails")),
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


def convert(export: pd.DataFrame, declared: str | None = None) -> FocusLoad:
    """Sum an export's usage charges into one cost row per workload and UTC day; the
    export is FOCUS ``declared``, or the version its columns show."""
    version = spec.version(export.columns, declared)
    skipped: Counter = Counter()
    category = export["ChargeCategory"]
    known = category.isin(spec.CHARGE_CATEGORIES)
    skipped[f"ChargeCategory not one of {', '.join(spec.CHARGE_CATEGORIES)}"] += int((~known).sum())
    usage = category.eq("Usage")
    skipped["not a usage charge (purchase, tax, credit, adjustment)"] += int((known & ~usage).sum())
    rows = export[usage]
    usd = rows["BillingCurrency"].eq("USD")
    skipped["billed in a currency other than USD"] += int((~usd).sum())
    rows = rows[usd]
    regional = _column(rows, "RegionId").isin(REGIONS)
    skipped[f"no RegionId, or one outside the cost model's {list(REGIONS)}"] += int(
        (~regional).sum()
    )
    rows = rows[regional]
    start = pd.to_datetime(rows["ChargePeriodStart"], utc=True, errors="coerce", format="ISO8601")
    cost = pd.to_numeric(rows["BilledCost"], errors="coerce")
    bad = start.isna() | cost.isna() | (cost < 0)
    skipped["unreadable time or cost, or a negative cost"] += int(bad.sum())
    rows, start, cost = rows[~bad], start[~bad], cost[~bad]

    amounts, family, unit = _usage(rows)
    unmeasured = Counter(
        cost[(amounts == 0).all(axis=1)].groupby(unit.astype(str)).sum().round(2).to_dict()
    )
    resource = _column(rows, "ResourceId")
    fallback = _column(rows, "SubAccountId").fillna("").astype(str)
    fallback = fallback + "/" + rows["ServiceName"].astype(str)
    charges = amounts.assign(
        workload_id=resource.where(resource.notna() & (resource != ""), fallback).astype(str),
        period_start=start.dt.floor("D"),
        cost=cost,
        region=rows["RegionId"],
        pricing_model=_column(rows, "PricingCategory").map(PRICING).fillna("on-demand"),
        family=family,
    )
    keys = ["workload_id", "period_start"]
    totals = charges.groupby(keys)[[*USAGE, "cost"]].sum()
    # A workload-day's region, pricing and family: those of its largest charge.
    main = charges.sort_values("cost").groupby(keys).last()[["region", "pricing_model", "family"]]
    frame = main.join(totals.rename(columns={"cost": COST_TARGET.name})).reset_index()
    frame["instance_family"] = np.where(frame["gpu_hours"] > 0, "gpu", frame.pop("family"))
    frame["source"] = "focus"
    return FocusLoad(frame[list(COLUMNS)], len(export), version, skipped, unmeasured)


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
