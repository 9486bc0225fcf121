"""The FOCUS specification's columns, versions 1.0 to 1.2, as a reader needs them.

From the specification's column files (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec,
``specification/columns/``, tags v1.0, v1.1 and v1.2): 43 columns in 1.0, 7 more in
1.1 and 7 more in 1.2; none was renamed or removed after 1.0. The 21 mandatory columns
are the same in all three. ``RegionId``, ``ConsumedQuantity`` and ``ConsumedUnit`` are
conditional (a provider without regions, or without metered usage, leaves them out),
so a reader must not require them.

A file's columns do not name its version: the export's metadata does
(``FocusVersion``). Given none, :func:`version` takes the newest version whose own
columns the file holds, which is the file's version unless the file leaves out every
optional column its version added. Columns of the drafts before 1.0 (``ChargeType``,
``AmortizedCost``, ``UsageQuantity``) are refused with the version they belong to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

VERSIONS = ("1.0", "1.1", "1.2")

MANDATORY: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
OPTIONAL_1_0: tuple[str, ...] = (
    "AvailabilityZone",
    "ChargeFrequency",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedUnitPrice",
    "ListUnitPrice",
    "PricingCategory",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
)
ADDED: dict[str, tuple[str, ...]] = {
    "1.1": (
        "CapacityReservationId",
        "CapacityReservationStatus",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountUnit",
        "ServiceSubcategory",
        "SkuMeter",
        "SkuPriceDetails",
    ),
    "1.2": (
        "BillingAccountType",
        "InvoiceId",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
        "SubAccountType",
    ),
}
# Microsoft's FOCUS 1.0 exports already carry these two, unprefixed: not a sign of 1.2.
_NOT_A_SIGN = {"BillingAccountType", "SubAccountType"}
_DRAFTS = {
    "ChargeType": "0.5",
    "AmortizedCost": "0.5",
    "UsageQuantity": "1.0-preview",
    "UsageUnit": "1.0-preview",
    "ChargeSubcategory": "1.0-preview",
}


class FocusError(ValueError):
    """A file that is not a FOCUS export this reader reads; the message is one line."""


def columns(version: str) -> tuple[str, ...]:
    """Every column FOCUS ``version`` defines."""
    added = [c for v in VERSIONS[1 : VERSIONS.index(version) + 1] for c in ADDED[v]]
    return (*MANDATORY, *OPTIONAL_1_0, *added)


def version(names: Iterable[str], declared: str | None = None) -> str:
    """The FOCUS version of a file with columns ``names``: ``declared`` (from its
    metadata or the user), or the newest whose own columns it holds. Raises
    :class:`FocusError` for a draft, an unknown version or a mandatory column missing."""
    present = set(names)
    if declared is not None and declared not in VERSIONS:
        raise FocusError(f"FOCUS {declared} is not read here: only {', '.join(VERSIONS)}")
    drafts = sorted({_DRAFTS[c] for c in present & _DRAFTS.keys()})
    if drafts and "ChargeCategory" not in present:
        raise FocusError(
            f"this is a FOCUS {drafts[0]} export (its columns "
            f"{sorted(present & _DRAFTS.keys())}): only FOCUS {', '.join(VERSIONS)} is read"
        )
    found = declared or next(
        (v for v in reversed(VERSIONS[1:]) if present & (set(ADDED[v]) - _NOT_A_SIGN)), "1.0"
    )
    missing = [c for c in MANDATORY if c not in present]
    if missing:
        raise FocusError(
            f"not a FOCUS {found} export: it lacks the mandatory column(s) {', '.join(missing)}"
        )
    return found


def key_values(value: object) -> dict[str, Any]:
    """A KeyValueFormat column's JSON object (``Tags``, ``SkuPriceDetails``): from its
    text, where the specification's own examples end in a comma, which is read; or from
    Parquet's map, a list of (key, value) pairs. Empty when it holds no object."""
    if isinstance(value, list):
        value = dict(value)
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        found = json.loads(re.sub(r",\s*}", "}", value))
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}
