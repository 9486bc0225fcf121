"""Seeded synthetic FOCUS bills: the four providers' exports, shaped by the specification.

:func:`focus_bill` writes what an export of AWS, Microsoft, Google Cloud and Oracle
holds for a fleet over some days, in FOCUS 1.0, 1.1 or 1.2 (:mod:`aetheredge.focus.spec`),
so that the demo, the tests and the benchmarks read bills through the same code as a
real export:

- every provider bills its own way: its service names, its regions (Oracle leaves
  ``RegionId`` null on some charges), its units ("Hrs" and "GB-Mo" for AWS, "OCPU
  Hours" for Oracle, GiB for Google), and AWS files data transfer under ``Compute``;
- instances are sized by ``SkuPriceDetails`` (1.1+; Microsoft's ``x_SkuDetails`` in
  1.0), GPU shapes included; storage and outbound transfer are metered, and inbound
  transfer is billed at 0;
- capacity is bought on demand (``Standard``), as spot (``Dynamic``) or by commitment
  (``Committed``): a commitment's purchase is billed upfront on the period's first day
  (``EffectiveCost`` 0) and amortised into the usage it covers (``BilledCost`` 0),
  and what it leaves unused is a charge of its own (status ``Unused``);
- each billing account has its tax, a credit, an adjustment, and refunds of some
  usage (``ChargeClass`` ``Correction``, negative cost and quantity); some accounts
  bill in EUR or JPY;
- usage comes in half-day charges, and an export is month to date: ``through`` cuts
  it, so a later export of the same month restates its days, as providers do until the
  month closes.

Prices follow a price book: an hourly rate per vCPU, GiB of memory and GPU, times the
region's factor and the provider's, with spot at 35% and commitments at 60% of list.
Each charge varies by a few percent (discounts, rounding).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from aetheredge.focus import spec

HOURLY = {"vcpu": 0.024, "memory_gib": 0.0032, "gpu": 0.95}  # USD list price per hour
STORAGE_GB_MONTH = 0.023
EGRESS_GB = 0.09
SPOT, COMMITTED = 0.35, 0.60
TAX_RATE = 0.08
CREDIT_SHARE = 0.02
ADJUSTMENT_SHARE = 0.005
REFUND_SHARE = 0.02  # of usage charges, refunded in part
RATES = {"USD": 1.0, "EUR": 0.92, "JPY": 150.0}
HALF_DAY = dt.timedelta(hours=12)
PRICING = ("Standard", "Dynamic", "Committed")
PAID = {"Standard": 1.0, "Dynamic": SPOT, "Committed": COMMITTED}
_COSTS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


@dataclass(frozen=True)
class Shape:
    """An instance type: vCPUs, memory (GiB) and GPUs."""

    name: str
    cores: int
    memory_gib: int
    gpus: int = 0

    @property
    def hourly(self) -> float:
        return (
            self.cores * HOURLY["vcpu"]
            + self.memory_gib * HOURLY["memory_gib"]
            + self.gpus * HOURLY["gpu"]
        )


@dataclass(frozen=True)
class Provider:
    """How one provider bills: names, regions (id, name, price factor), units, shapes,
    and the currency of each of its billing accounts."""

    name: str
    compute: str
    storage: str
    transfer: tuple[str, str]  # ServiceName, ServiceCategory
    regions: tuple[tuple[str | None, str | None, float], ...]
    hours: str
    storage_unit: str
    transfer_unit: str
    shapes: tuple[Shape, ...]
    currencies: tuple[str, ...]
    factor: float = 1.0
    out_meter: str = "Data Transfer Out"
    in_meter: str = "Data Transfer In"

    def account(self, index: int) -> str:
        return f"{self.name.split()[0].lower()}-{index + 1:04d}"


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "AWS",
        compute="Amazon Elastic Compute Cloud",
        storage="Amazon Simple Storage Service",
        transfer=("Amazon Elastic Compute Cloud", "Compute"),
        regions=(
            ("us-east-1", "US East (N. Virginia)", 1.0),
            ("eu-west-1", "Europe (Ireland)", 1.1),
            ("ap-southeast-1", "Asia Pacific (Singapore)", 1.2),
            ("sa-east-1", "South America (Sao Paulo)", 1.55),
            ("me-central-1", "Middle East (UAE)", 1.25),
        ),
        hours="Hrs",
        storage_unit="GB-Mo",
        transfer_unit="GB",
        shapes=(
            Shape("m5.xlarge", 4, 16),
            Shape("c5.2xlarge", 8, 16),
            Shape("r5.xlarge", 4, 32),
            Shape("g5.xlarge", 4, 16, 1),
            Shape("p3.2xlarge", 8, 61, 1),
        ),
        currencies=("USD", "USD"),
        out_meter="USE1-DataTransfer-Out-Bytes",
        in_meter="USE1-DataTransfer-In-Bytes",
    ),
    Provider(
        "Microsoft",
        compute="Virtual Machines",
        storage="Storage",
        transfer=("Bandwidth", "Networking"),
        regions=(
            ("eastus", "East US", 1.0),
            ("westeurope", "West Europe", 1.12),
            ("japaneast", "Japan East", 1.22),
            ("brazilsouth", "Brazil South", 1.5),
        ),
        hours="Hours",
        storage_unit="GB-Months",
        transfer_unit="GB",
        shapes=(
            Shape("Standard_D4s_v5", 4, 16),
            Shape("Standard_F8s_v2", 8, 16),
            Shape("Standard_E4s_v5", 4, 32),
            Shape("Standard_NC4as_T4_v3", 4, 28, 1),
        ),
        currencies=("USD", "EUR"),
        factor=1.04,
    ),
    Provider(
        "Google Cloud",
        compute="Compute Engine",
        storage="Cloud Storage",
        transfer=("Networking", "Networking"),
        regions=(
            ("us-central1", "Iowa", 1.0),
            ("europe-west1", "Belgium", 1.1),
            ("asia-northeast1", "Tokyo", 1.28),
            ("southamerica-east1", "Sao Paulo", 1.45),
        ),
        hours="Hours",
        storage_unit="GiB-Months",
        transfer_unit="GiB",
        shapes=(
            Shape("n2-standard-4", 4, 16),
            Shape("c2-standard-8", 8, 32),
            Shape("n2-highmem-4", 4, 32),
            Shape("g2-standard-4", 4, 16, 1),
        ),
        currencies=("USD", "JPY"),
        factor=0.97,
        out_meter="Network Internet Egress",
        in_meter="Network Ingress",
    ),
    Provider(
        "Oracle",
        compute="COMPUTE",
        storage="BLOCK_STORAGE",
        transfer=("NETWORK", "Networking"),
        regions=(
            ("us-ashburn-1", "US East (Ashburn)", 1.0),
            ("eu-frankfurt-1", "Germany Central (Frankfurt)", 1.0),
            (None, None, 1.0),  # Oracle leaves RegionId null on many charges
        ),
        hours="OCPU Hours",  # one OCPU is two vCPUs: shapes count OCPUs * 2
        storage_unit="GB-Months",
        transfer_unit="GB",
        shapes=(Shape("VM.Standard.E4.Flex", 4, 16), Shape("VM.Standard3.Flex", 8, 64)),
        currencies=("USD", "USD"),
        factor=0.8,
        out_meter="Outbound Data Transfer",
        in_meter="Inbound Data Transfer",
    ),
)


def _iso(moments: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(moments).strftime("%Y-%m-%dT%H:%M:%SZ"), dtype=object)


def _fleet(resources: int, rng: np.random.Generator) -> pd.DataFrame:
    """Each resource: provider, account, team, kind (vm or bucket), region, shape,
    pricing, share of the day it runs, data stored and sent."""
    provider = rng.integers(0, len(PROVIDERS), resources)

    def pick(sizes: np.ndarray) -> np.ndarray:
        return (rng.random(resources) * sizes).astype(int)

    accounts = np.array([len(p.currencies) for p in PROVIDERS])[provider]
    regions = np.array([len(p.regions) for p in PROVIDERS])[provider]
    shapes = np.array([len(p.shapes) for p in PROVIDERS])[provider]
    vm = rng.random(resources) < 0.75
    pricing = rng.choice(np.array(PRICING), resources, p=[0.6, 0.15, 0.25])
    kind = np.where(vm, "vm", "bucket")
    short = np.array([p.name.split()[0].lower() for p in PROVIDERS])[provider]
    return pd.DataFrame(
        {
            "provider": provider,
            "account": pick(accounts),
            "team": np.char.add("team-", rng.integers(1, 7, resources).astype(str)),
            "vm": vm,
            "region": pick(regions),
            "shape": pick(shapes),
            "pricing": np.where(vm, pricing, "Standard"),
            "utilisation": rng.uniform(0.3, 1.0, resources),
            "stored_gb": rng.lognormal(6.0, 1.2, resources),
            "egress_gb": np.where(vm, rng.lognormal(2.0, 1.5, resources), 0.0),
            "resource": [
                f"{s}-{k}-{i:06d}" for i, (s, k) in enumerate(zip(short, kind, strict=True))
            ],
        }
    )


def _details(pro: Provider, shape: Shape, version: str) -> tuple[str | None, str | None]:
    """The instance's size as its provider publishes it: ``SkuPriceDetails`` (1.1+) and
    Microsoft's ``x_SkuDetails`` (1.0). Oracle bills per OCPU: the unit carries cores."""
    if pro.name == "Oracle":
        return None, None
    if version == "1.0":
        azure = json.dumps({"VCPUs": shape.cores}) if pro.name == "Microsoft" else None
        return None, azure
    details = {"CoreCount": shape.cores, "MemorySize": shape.memory_gib, "InstanceType": shape.name}
    if shape.gpus:
        details["GpuCount"] = shape.gpus
    return json.dumps(details), None


def focus_bill(
    resources: int = 120,
    days: int = 30,
    seed: int = 0,
    *,
    version: str = "1.2",
    start: str = "2026-10-01",
    through: str | None = None,
) -> pd.DataFrame:
    """An export of ``resources`` resources' charges over ``days`` days from ``start``,
    in FOCUS ``version``, month to date up to ``through`` (default: the last day's end).

    The same ``seed`` gives the same fleet and the same charges: a later ``through``
    holds every usage charge an earlier one did, and restates the month's tax, credit
    and adjustment and its commitments' unused share.
    """
    if version not in spec.VERSIONS:
        raise ValueError(f"FOCUS {version} is not written here: only {', '.join(spec.VERSIONS)}")
    rng = np.random.default_rng(seed)
    fleet = _fleet(resources, rng)
    first = pd.Timestamp(start, tz="UTC")
    cut = pd.Timestamp(through, tz="UTC") if through else first + pd.Timedelta(days=days)
    halves = pd.date_range(first, periods=days * 2, freq="12h")
    shape = (len(fleet), len(halves))
    noise, running = rng.lognormal(0.0, 0.03, shape), rng.random(shape)
    refunded = rng.random(shape) < REFUND_SHARE
    r, t = np.divmod(np.arange(shape[0] * shape[1]), shape[1])
    inside = halves[t] + HALF_DAY <= cut
    r, t = r[inside], t[inside]
    grid = _Grid(fleet, version, r, t, halves, noise[r, t], running[r, t])
    usage = pd.concat([grid.compute(), grid.memory(), *grid.transfer(), grid.storage()])
    refunds = usage[refunded[usage.pop("_r"), usage.pop("_t")] & (usage["BilledCost"] > 0)]
    usage = pd.concat([usage, _refunds(refunds)], ignore_index=True)
    lines = pd.concat([usage, _commitments(usage, first, cut)], ignore_index=True)
    lines = pd.concat([lines, _account_charges(lines, cut)], ignore_index=True)
    return _priced(lines, version)


def _resources(fleet: pd.DataFrame, version: str) -> pd.DataFrame:
    """What each resource's charges carry: its provider's names, units and meters, its
    region, its shape's size and list price per hour, and the size as published."""
    rows = []
    for res in fleet.itertuples(index=False):
        pro = PROVIDERS[res.provider]
        region_id, region_name, factor = pro.regions[res.region]
        shape = pro.shapes[res.shape]
        details, azure = _details(pro, shape, version)
        rows.append(
            {
                "ProviderName": pro.name,
                "BillingAccountId": pro.account(res.account),
                "BillingCurrency": pro.currencies[res.account],
                "RegionId": region_id,
                "RegionName": region_name,
                "factor": factor * pro.factor,
                "oracle": pro.name == "Oracle",
                "cores": float(shape.cores),
                "memory_gib": float(shape.memory_gib),
                "hourly": shape.hourly,
                "shape": shape.name,
                "sku": f"{pro.name[:3].lower()}-",
                "compute": pro.compute,
                "storage": pro.storage,
                "storage_kind": "Disk" if pro.name == "Oracle" else "Object Storage",
                "transfer": pro.transfer[0],
                "transfer_category": pro.transfer[1],
                "hours_unit": pro.hours,
                "storage_unit": pro.storage_unit,
                "transfer_unit": pro.transfer_unit,
                "out_meter": pro.out_meter,
                "in_meter": pro.in_meter,
                "SkuPriceDetails": details,
                "x_SkuDetails": azure,
            }
        )
    return pd.DataFrame(rows)


class _Grid:
    """Each resource's half-days up to the cut (resource ``r``, half-day ``t``): the
    usage charges they make, in USD."""

    def __init__(self, fleet, version, r, t, halves, noise, running) -> None:
        self.fleet = fleet.iloc[r].reset_index(drop=True)
        self.res = _resources(fleet, version).iloc[r].reset_index(drop=True)
        self.running = running
        self.factor = self.res["factor"].to_numpy() * noise
        self.vm = self.fleet["vm"].to_numpy()
        self.oracle = self.res["oracle"].to_numpy()
        self.pricing = self.fleet["pricing"]
        self.standard = pd.Series("Standard", index=self.fleet.index)
        busy = self.fleet["utilisation"].to_numpy() + 0.2 * (running - 0.5)
        self.hours = np.round(12.0 * np.clip(busy, 0.0, 1.0), 4)
        starts = halves[t]
        months = starts.tz_localize(None).to_period("M").start_time.tz_localize("UTC")
        team = self.fleet["team"]
        self.common = {
            "_r": r,
            "_t": t,
            **{c: self.res[c].to_numpy() for c in _CARRIED},
            "BillingPeriodStart": _iso(months),
            "ChargePeriodStart": _iso(starts),
            "ChargePeriodEnd": _iso(starts + HALF_DAY),
            "ChargeCategory": "Usage",
            "ChargeFrequency": "Usage-Based",
            "ResourceId": self.fleet["resource"].to_numpy(),
            "SubAccountId": team.to_numpy(),
            "Tags": ('{"team": "' + team + '", "env": "prod"}').to_numpy(),
        }

    def column(self, name: str) -> np.ndarray:
        return self.res[name].to_numpy()

    def _charge(self, mask, quantity, unit, listed, pricing, **columns) -> pd.DataFrame:
        """The charges of the half-days in ``mask``: per-half-day arrays masked, single
        values repeated; ``listed`` at list price, paid as ``pricing`` pays."""
        effective = listed * pricing.map(PAID).to_numpy()
        committed = (pricing == "Committed").to_numpy()
        account = self.common["BillingAccountId"]
        columns = self.common | columns
        columns |= {
            "PricingCategory": pricing.to_numpy(),
            "PricingQuantity": quantity,
            "PricingUnit": unit,
            "ConsumedQuantity": quantity,
            "ConsumedUnit": unit,
            "ListCost": listed,
            "ContractedCost": effective,
            "EffectiveCost": effective,
            "BilledCost": np.where(committed, 0.0, effective),
            "CommitmentDiscountId": np.where(committed, account + "-commitment", None),
            "CommitmentDiscountCategory": np.where(committed, "Usage", None),
            "CommitmentDiscountType": np.where(committed, "Reserved Instance", None),
            "CommitmentDiscountStatus": np.where(committed, "Used", None),
        }
        return pd.DataFrame(
            {k: v[mask] if isinstance(v, np.ndarray) else v for k, v in columns.items()}
        )

    def compute(self) -> pd.DataFrame:
        """Instance hours: Oracle's per OCPU (two vCPUs), its memory billed apart."""
        cores = self.column("cores")
        hourly = np.where(self.oracle, cores * HOURLY["vcpu"], self.column("hourly"))
        hourly = hourly * self.factor
        quantity = np.where(self.oracle, self.hours * cores / 2, self.hours)
        pricing = self.pricing.str.lower().to_numpy()
        sku = self.column("sku") + self.column("shape")
        return self._charge(
            self.vm,
            quantity,
            self.column("hours_unit"),
            self.hours * hourly,
            self.pricing,
            ChargeDescription=self.column("shape") + " usage (" + pricing + ")",
            ServiceName=self.column("compute"),
            ServiceCategory="Compute",
            ServiceSubcategory="Virtual Machines",
            SkuId=sku,
            SkuPriceId=sku + "-" + pricing,
            ListUnitPrice=np.round(hourly * self.hours / np.maximum(quantity, 1e-9), 6),
            ResourceType="Virtual Machine",
            SkuPriceDetails=self.column("SkuPriceDetails"),
            x_SkuDetails=self.column("x_SkuDetails"),
        )

    def memory(self) -> pd.DataFrame:
        """Oracle bills an instance's memory apart, per GB-hour."""
        gb_hours = self.hours * self.column("memory_gib")
        rate = HOURLY["memory_gib"] * self.factor
        return self._charge(
            self.oracle & self.vm,
            gb_hours,
            "GB-Hours",
            gb_hours * rate,
            self.pricing,
            ChargeDescription="Instance memory",
            ServiceName=self.column("compute"),
            ServiceCategory="Compute",
            ServiceSubcategory="Virtual Machines",
            SkuId="ora-memory",
            SkuPriceId="ora-memory-" + self.pricing.str.lower().to_numpy(),
            ListUnitPrice=np.round(rate, 6),
            ResourceType="Virtual Machine",
        )

    def transfer(self) -> list[pd.DataFrame]:
        """Data sent out (billed by the GB) and received (free), metered by direction."""
        amount = self.fleet["egress_gb"].to_numpy() / 2 * (0.5 + self.running)
        frames = []
        for meter, price in (("out_meter", EGRESS_GB), ("in_meter", 0.0)):
            meters = self.column(meter)
            sku = self.column("sku") + meters
            frames.append(
                self._charge(
                    self.vm,
                    amount,
                    self.column("transfer_unit"),
                    amount * price * self.factor,
                    self.standard,
                    ChargeDescription=meters,
                    ServiceName=self.column("transfer"),
                    ServiceCategory=self.column("transfer_category"),
                    SkuId=sku,
                    SkuPriceId=sku,
                    ServiceSubcategory="Data Transfer",
                    SkuMeter=meters,
                    ListUnitPrice=price,
                )
            )
        return frames

    def storage(self) -> pd.DataFrame:
        """A half-day of stored data: a sixtieth of a month of its GB."""
        months = np.round(self.fleet["stored_gb"].to_numpy() / 60.0, 6)
        sku = self.column("sku") + "storage"
        return self._charge(
            ~self.vm,
            months,
            self.column("storage_unit"),
            months * STORAGE_GB_MONTH * self.factor,
            self.standard,
            ChargeDescription="Storage used",
            ServiceName=self.column("storage"),
            ServiceCategory="Storage",
            ServiceSubcategory=self.column("storage_kind"),
            SkuId=sku,
            SkuPriceId=sku + "-standard",
            ListUnitPrice=STORAGE_GB_MONTH,
            ResourceType="Bucket",
        )


_CARRIED = ("ProviderName", "BillingAccountId", "BillingCurrency", "RegionId", "RegionName")


def _refunds(charges: pd.DataFrame) -> pd.DataFrame:
    """Corrections refunding half of each of ``charges``: negative costs and quantities."""
    halved = [*_COSTS, "PricingQuantity", "ConsumedQuantity"]
    return charges.assign(
        **{c: -charges[c] / 2 for c in halved},
        ChargeClass="Correction",
        ChargeDescription="Refund: " + charges["ChargeDescription"],
    )


def _month_start(moment: pd.Timestamp) -> pd.Timestamp:
    return moment.normalize().replace(day=1)


def _provider(name: str) -> Provider:
    return next(p for p in PROVIDERS if p.name == name)


def _commitments(usage: pd.DataFrame, first: pd.Timestamp, cut: pd.Timestamp) -> pd.DataFrame:
    """Each account's commitment: a daily fee (a tenth above its instances' busiest day),
    bought upfront on each month's first day and amortised over its days: what the
    instances used, and the rest billed as unused, a charge for each whole day."""
    used = usage[usage["CommitmentDiscountStatus"].eq("Used")]
    day = pd.to_datetime(used["ChargePeriodStart"], utc=True).dt.floor("D")
    keys = ["ProviderName", "BillingAccountId", "BillingCurrency", "CommitmentDiscountId"]
    daily = used.groupby([*keys, day.rename("day")])["EffectiveCost"].sum()
    rows = []
    days = pd.date_range(first, cut - pd.Timedelta(days=1), freq="D")
    for key, spent in daily.groupby(level=keys):
        provider, account, currency, commitment = key
        pro = _provider(provider)
        spent = spent.droplevel(keys)
        fee = 1.1 * spent.max()
        common = {
            "ProviderName": provider,
            "BillingAccountId": account,
            "BillingCurrency": currency,
            "CommitmentDiscountId": commitment,
            "CommitmentDiscountCategory": "Usage",
            "CommitmentDiscountType": "Reserved Instance",
            "ServiceName": pro.compute,
            "ServiceCategory": "Compute",
            "SkuId": f"{pro.name[:3].lower()}-commitment",
            "SkuPriceId": f"{pro.name[:3].lower()}-commitment",
            "PricingCategory": "Committed",
            "PricingUnit": "Units",
        }
        for month in sorted({_month_start(d) for d in days}):
            end = month + pd.offsets.MonthBegin(1)
            paid = fee * (end - month).days
            rows.append(
                common
                | {
                    "ChargeCategory": "Purchase",
                    "ChargeFrequency": "One-Time",
                    "ChargeDescription": "Reserved capacity, one month, all upfront",
                    "BillingPeriodStart": _iso([month])[0],
                    "ChargePeriodStart": _iso([month])[0],
                    "ChargePeriodEnd": _iso([end])[0],
                    "PricingQuantity": 1.0,
                    "BilledCost": paid,
                    "EffectiveCost": 0.0,
                    "ListCost": paid / COMMITTED,
                    "ContractedCost": paid,
                }
            )
        for moment in days:
            unused = fee - spent.get(moment, 0.0)
            rows.append(
                common
                | {
                    "ChargeCategory": "Usage",
                    "ChargeFrequency": "Usage-Based",
                    "ChargeDescription": "Reserved capacity not used",
                    "CommitmentDiscountStatus": "Unused",
                    "BillingPeriodStart": _iso([_month_start(moment)])[0],
                    "ChargePeriodStart": _iso([moment])[0],
                    "ChargePeriodEnd": _iso([moment + pd.Timedelta(days=1)])[0],
                    "PricingQuantity": round(unused / fee, 6),
                    "BilledCost": 0.0,
                    "EffectiveCost": unused,
                    "ListCost": unused / COMMITTED,
                    "ContractedCost": unused,
                }
            )
    return pd.DataFrame(rows)


def _account_charges(lines: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """Each account's tax on, and credit and adjustment against, each billing period's
    billed cost so far: charges without a quantity, restated as the month goes on."""
    keys = ["ProviderName", "BillingAccountId", "BillingCurrency", "BillingPeriodStart"]
    rows = []
    for (provider, account, currency, period), total in (
        lines.groupby(keys)["BilledCost"].sum().items()
    ):
        begin = pd.Timestamp(period)
        end = min(cut, begin + pd.offsets.MonthBegin(1))
        for category, amount, description in (
            ("Tax", TAX_RATE * total, "Sales tax"),
            ("Credit", -CREDIT_SHARE * total, "Promotional credit"),
            ("Adjustment", -ADJUSTMENT_SHARE * total, "Service level agreement adjustment"),
        ):
            rows.append(
                {
                    "ProviderName": provider,
                    "BillingAccountId": account,
                    "BillingCurrency": currency,
                    "BillingPeriodStart": period,
                    "ChargeCategory": category,
                    "ChargeFrequency": "Recurring" if category == "Tax" else "One-Time",
                    "ChargeDescription": description,
                    "ChargePeriodStart": period,
                    "ChargePeriodEnd": _iso([end])[0],
                    "ServiceName": "Tax" if category == "Tax" else _provider(provider).compute,
                    "ServiceCategory": "Other",
                    "BilledCost": amount,
                    "EffectiveCost": amount,
                    "ListCost": amount if category == "Tax" else 0.0,
                    "ContractedCost": amount,
                }
            )
    return pd.DataFrame(rows)


def _priced(lines: pd.DataFrame, version: str) -> pd.DataFrame:
    """``lines`` (costs in USD) as an export of ``version``: costs in each account's
    currency to the micro-unit, the columns every charge shares, and only the
    version's own columns (and the providers' ``x_`` ones)."""
    rate = lines["BillingCurrency"].map(RATES).to_numpy()
    start = pd.to_datetime(lines["BillingPeriodStart"], utc=True)
    name = lines["ProviderName"]
    account = lines["BillingAccountId"]
    out = lines.assign(
        PublisherName=name,
        InvoiceIssuerName=name,
        BillingAccountName=name + " account " + account.str[-1],
        BillingPeriodEnd=_iso(start + pd.offsets.MonthBegin(1)),
        ChargeClass=lines.get("ChargeClass"),
        ResourceName=lines["ResourceId"],
        SubAccountName=lines["SubAccountId"].str.replace("-", " ").str.title(),
        InvoiceId=account + "-" + start.dt.strftime("%Y-%m"),
        PricingCurrency="USD",
        PricingCurrencyEffectiveCost=lines["EffectiveCost"].round(6),
        **{c: (lines[c] * rate).round(6) for c in _COSTS},
    )
    keep = [c for c in out.columns if c in spec.columns(version) or c.startswith("x_")]
    empty = [c for c in keep if c.startswith("x_") and out[c].isna().all()]
    return out[[c for c in keep if c not in empty]]


def cost_rows(rows: int = 200_000, *, seed: int = 0, days: int = 30) -> pd.DataFrame:
    """``rows`` labelled resource-days for the cost model: bills of :func:`focus_bill`
    read and summed as a real export is (:mod:`aetheredge.focus`), ``ts`` the day,
    ``cost`` the amortised effective cost. Fleets of at most :data:`CHUNK` resources
    are billed one at a time, so memory stays flat (a bill holds about 5.5 lines a
    resource-day, 0.9 KB each)."""
    from aetheredge.focus import convert, read
    from aetheredge.kinds.cost import KIND

    resources = max(1, -(-rows // days))
    frames = []
    for part, start in enumerate(range(0, resources, CHUNK)):
        fleet = min(CHUNK, resources - start)
        frame = convert(read(focus_bill(fleet, days, seed + 7919 * part))).frame
        frames.append(frame.assign(workload_id=f"{part}/" + frame["workload_id"]))
    frame = pd.concat(frames, ignore_index=True).rename(columns={"period_start": "ts"})
    frame["ts"] = frame["ts"].dt.tz_localize(None)
    frame = frame.sample(min(rows, len(frame)), random_state=seed).sort_values("ts")
    return KIND.labelled(frame.reset_index(drop=True))


CHUNK = 2_000
