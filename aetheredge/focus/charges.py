"""FOCUS charges as stored: every readable charge line of an export, whatever its
currency, region or category, and one reason for each line left out.

A line is left out only when it cannot be a charge: its ``ChargeCategory`` or
``ChargeClass`` is none the specification allows, a cost is not a number, a period is
not a time, or it names no provider or billing account (which restatements key on).
Negative costs and quantities (refunds, corrections) are charges like any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from aetheredge.features.focus_values import CHARGE_CATEGORIES, CHARGE_CLASSES
from aetheredge.focus import spec

# focus_charges column -> FOCUS column
COLUMNS: dict[str, str] = {
    "provider": "ProviderName",
    "billing_account_id": "BillingAccountId",
    "billing_period_start": "BillingPeriodStart",
    "billing_period_end": "BillingPeriodEnd",
    "charge_period_start": "ChargePeriodStart",
    "charge_period_end": "ChargePeriodEnd",
    "charge_category": "ChargeCategory",
    "charge_class": "ChargeClass",
    "billed_cost": "BilledCost",
    "effective_cost": "EffectiveCost",
    "list_cost": "ListCost",
    "contracted_cost": "ContractedCost",
    "billing_currency": "BillingCurrency",
    "service_category": "ServiceCategory",
    "service_name": "ServiceName",
    "sub_account_id": "SubAccountId",
    "resource_id": "ResourceId",
    "region_id": "RegionId",
    "sku_id": "SkuId",
    "sku_price_id": "SkuPriceId",
    "pricing_category": "PricingCategory",
    "pricing_quantity": "PricingQuantity",
    "pricing_unit": "PricingUnit",
    "consumed_quantity": "ConsumedQuantity",
    "consumed_unit": "ConsumedUnit",
    "commitment_discount_id": "CommitmentDiscountId",
    "commitment_discount_status": "CommitmentDiscountStatus",
    "tags": "Tags",
    "sku_price_details": "SkuPriceDetails",
}
NUMBERS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "PricingQuantity",
    "ConsumedQuantity",
)
TIMES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
KEY_VALUES = ("Tags", "SkuPriceDetails", "x_SkuDetails")
COSTS = ("BilledCost", "EffectiveCost")
SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass
class Charges:
    """An export of FOCUS ``version`` read: ``frame`` with its numbers and times
    parsed, and ``reason`` why each row is left out ("" for a row stored)."""

    frame: pd.DataFrame
    reason: pd.Series
    version: str

    @property
    def stored(self) -> pd.Series:
        return self.reason.eq("")

    @property
    def scopes(self) -> pd.Series:
        """Each row's restatement scope: provider, billing account, billing period."""
        frame = self.frame
        start = frame["BillingPeriodStart"].map(lambda t: t.isoformat() if pd.notna(t) else "")
        return (
            frame["ProviderName"].astype(str)
            + "|"
            + frame["BillingAccountId"].astype(str)
            + "|"
            + start
        )

    def records(self) -> list[tuple]:
        """The stored rows, for COPY into ``focus_charges`` (then ``focus_version``)."""
        rows = self.frame[self.stored]
        columns = []
        for name in COLUMNS.values():
            column = rows[name] if name in rows else pd.Series(None, index=rows.index)
            if name in NUMBERS:
                column = column.map(lambda v: None if pd.isna(v) else Decimal(repr(float(v))))
            elif name in TIMES:
                column = column.map(lambda t: t.to_pydatetime())
            else:
                column = column.astype(object).where(column.notna(), None)
            columns.append(column.to_list())
        return [(*row, self.version) for row in zip(*columns, strict=True)]


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


def _key_value(value: object) -> str | None:
    """A key-value column's object as JSON text, or None."""
    found = spec.key_values(value)
    return json.dumps(found) if found else None


def read(export: pd.DataFrame, declared: str | None = None) -> Charges:
    """Check ``export`` as FOCUS ``declared`` (or the version its columns show), parse
    it, and give each row left out one reason, the first that applies. Raises
    :class:`~aetheredge.focus.spec.FocusError` for a file of no version read here."""
    version = spec.version(export.columns, declared)
    frame = export.copy()
    for name in NUMBERS:
        if name in frame:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    unreadable_cost = frame[list(COSTS)].isna().any(axis=1) & export[list(COSTS)].notna().all(
        axis=1
    )
    for name in TIMES:
        frame[name] = pd.to_datetime(frame[name], utc=True, errors="coerce", format="ISO8601")
    for name in KEY_VALUES:
        if name in frame:
            frame[name] = frame[name].map(_key_value)
    reasons = [
        (
            ~frame["ChargeCategory"].isin(CHARGE_CATEGORIES),
            f"ChargeCategory is not one of {', '.join(CHARGE_CATEGORIES)}",
        ),
        (
            frame["ChargeClass"].notna() & ~frame["ChargeClass"].isin(CHARGE_CLASSES),
            "ChargeClass is neither null nor Correction",
        ),
        (unreadable_cost, "BilledCost or EffectiveCost is not a number"),
        (frame[list(COSTS)].isna().any(axis=1), "BilledCost or EffectiveCost is null"),
        (frame[list(TIMES)].isna().any(axis=1), "a charge or billing period is not a time"),
        (
            frame["ProviderName"].isna() | frame["BillingAccountId"].isna(),
            "no ProviderName or BillingAccountId",
        ),
    ]
    reason = np.select([mask.to_numpy() for mask, _ in reasons], [r for _, r in reasons], "")
    return Charges(frame, pd.Series(reason, index=frame.index), version)
