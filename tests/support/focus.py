"""FOCUS charges as the specification defines them (versions 1.0 to 1.2), for the four
providers whose exports the reader must take: every mandatory column, the conditional
ones each provider fills, and what a test overrides."""

from typing import Any

import pandas as pd

from aetheredge.focus import spec

PROVIDERS: dict[str, dict[str, Any]] = {
    "AWS": {
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "InvoiceIssuerName": "AWS",
        "RegionId": "us-east-1",
        "RegionName": "US East (N. Virginia)",
        "ServiceName": "Amazon Elastic Compute Cloud",
    },
    "Microsoft": {
        "ProviderName": "Microsoft",
        "PublisherName": "Microsoft",
        "InvoiceIssuerName": "Microsoft",
        "RegionId": "eastus",
        "RegionName": "East US",
        "ServiceName": "Virtual Machines",
    },
    "Google Cloud": {
        "ProviderName": "Google Cloud",
        "PublisherName": "Google Cloud",
        "InvoiceIssuerName": "Google Cloud",
        "RegionId": "us-central1",
        "RegionName": "Iowa",
        "ServiceName": "Compute Engine",
    },
    "Oracle": {
        "ProviderName": "Oracle",
        "PublisherName": "Oracle",
        "InvoiceIssuerName": "Oracle",
        "RegionId": None,  # conditional: Oracle leaves it null on many charges
        "RegionName": None,
        "ServiceName": "COMPUTE",
    },
}


def charge(provider: str = "AWS", version: str = "1.2", **columns: Any) -> dict[str, Any]:
    """One usage charge of ``provider`` in FOCUS ``version``: an hour of a 4-vCPU
    instance on 2026-08-01, unless ``columns`` say otherwise."""
    row: dict[str, Any] = {
        "BilledCost": 0.20,
        "EffectiveCost": 0.20,
        "ListCost": 0.20,
        "ContractedCost": 0.20,
        "BillingAccountId": f"{provider.lower()}-billing-1",
        "BillingAccountName": "Platform",
        "BillingCurrency": "USD",
        "BillingPeriodStart": "2026-08-01T00:00:00Z",
        "BillingPeriodEnd": "2026-09-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": "4 vCPU instance hour",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodStart": "2026-08-01T10:00:00Z",
        "ChargePeriodEnd": "2026-08-01T11:00:00Z",
        "ConsumedQuantity": 1.0,
        "ConsumedUnit": "Hours",
        "PricingQuantity": 1.0,
        "PricingUnit": "Hours",
        "PricingCategory": "Standard",
        "ServiceCategory": "Compute",
        "ResourceId": "vm-1",
        "ResourceName": "vm-1",
        "SubAccountId": "team-a",
        "SubAccountName": "Team A",
        "SkuId": "sku-4vcpu",
        "SkuPriceId": "price-4vcpu",
        "Tags": '{"team": "a"}',
        **PROVIDERS[provider],
    }
    if version != "1.0":
        row["SkuPriceDetails"] = '{"CoreCount": 4, "MemorySize": 16, "InstanceType": "m5.xlarge"}'
        row["ServiceSubcategory"] = "Virtual Machines"
    if version == "1.2":
        row["InvoiceId"] = f"{provider.lower()}-inv-2026-08"
    row |= columns
    unknown = {c for c in row if not c.startswith("x_")} - set(spec.columns(version))
    assert not unknown, f"not FOCUS {version} columns: {unknown}"
    return row


def export(*charges: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(charges))
