"""The cost kind: a Random Forest predicting a resource-day's cost from its FOCUS usage.

A row is one resource's usage charges over one UTC day, in FOCUS's terms: how much it
used of each unit family (vCPU-, memory- and GPU-hours, storage GiB-months, egress
GiB, requests), the size of its SKU (cores, memory, GPUs per instance), and, from its
largest charge, its provider, region, service category and subcategory (what the
service does, the specification's list across providers' own service names), pricing
category, commitment status and charge frequency. FOCUS bills become such rows in
:mod:`aetheredge.focus.days`, and are stored in ``cost_usage``.

The label is the amortised ``EffectiveCost`` (what the usage cost once commitments are
spread over what they cover), or the ``BilledCost`` (``bases``): billed, usage covered
by a prepaid commitment costs nothing, so a model learns that reserved capacity is free.

The grain is the resource-day: what a FinOps user asks a workload costs, described in
aggregate (its hours, its transfer, its storage) the way a bill's day sums them. It was
chosen against finer grains, each summed back per resource-day, on a synthetic bill of
its own (600 resources, 30 days, seed 77, 60 trees, the newest fifth held out): the
forest's hold-out MAE was 0.258 per resource-day, 0.178 fitted per SKU price and day,
and 0.197 per charge line. Finer grains fit better, but at one SKU price a row the
naive per-SKU price book beats the forest (``benchmarks/cost_eval.py``, on another
bill: MAE 0.109 against 0.145), so no learned model clears the gate against the book
there: where a bill lists each SKU's price, reading it is the best estimate. On
resource-days the forest beats the book (0.248 against 1.000, the same run).
"""

from __future__ import annotations

from aetheredge.features.focus_values import (
    AREAS,
    CHARGE_FREQUENCIES,
    PRICING_CATEGORIES,
    PROVIDERS,
    SERVICE_CATEGORIES,
    SUBCATEGORIES,
    area_of,
    commitment_of,
    provider_of,
    subcategory_of,
)
from aetheredge.features.schema import Categorical, Numeric
from aetheredge.kinds.base import Floor, Kind, Output, Storage

QUANTITIES: tuple[Numeric, ...] = (
    Numeric("vcpu_hours", "vCPU-h", 0.0, 10_000_000.0, "vCPU time used in the day"),
    Numeric("memory_gib_hours", "GiB-h", 0.0, 100_000_000.0, "Memory held x hours"),
    Numeric("gpu_hours", "GPU-h", 0.0, 1_000_000.0, "Accelerator time used"),
    Numeric("storage_gib_month", "GiB-month", 0.0, 100_000_000.0, "Storage held"),
    Numeric("egress_gib", "GiB", 0.0, 100_000_000.0, "Data sent out"),
    Numeric("requests", "count", 0.0, 1e13, "Requests served"),
)
SKU_FACTS: tuple[Numeric, ...] = (
    Numeric("cores", "vCPU", 0.0, 100_000.0, "vCPUs of one instance of the SKU (0: none)"),
    Numeric("memory_gib", "GiB", 0.0, 1_000_000.0, "Memory of one instance of the SKU"),
    Numeric("gpus", "GPU", 0.0, 1_000.0, "GPUs of one instance of the SKU"),
)
COST_NUMERIC = QUANTITIES + SKU_FACTS
COST_CATEGORICAL: tuple[Categorical, ...] = (
    Categorical("provider", PROVIDERS, "FOCUS ProviderName", of=provider_of),
    Categorical(
        "region", AREAS, "FOCUS RegionId, any provider's (null: none); read as its area", area_of
    ),
    Categorical("service_category", SERVICE_CATEGORIES, "FOCUS ServiceCategory"),
    Categorical(
        "service_subcategory",
        SUBCATEGORIES,
        "FOCUS ServiceSubcategory (1.1+; null: none), the service's core function",
        subcategory_of,
    ),
    Categorical("pricing_category", PRICING_CATEGORIES, "FOCUS PricingCategory"),
    Categorical(
        "commitment_status",
        ("none", "Used"),
        "FOCUS CommitmentDiscountStatus: Used, or null when no commitment covered the usage",
        commitment_of,
        accepts=("Used",),
    ),
    Categorical("charge_frequency", CHARGE_FREQUENCIES, "FOCUS ChargeFrequency"),
)
COST_TARGET = Numeric("cost", "USD", 0.0, 1e12, "The resource-day's cost")
# The label's bases: the cost_usage (and training frame) column each is read from.
BASES = (("effective", "effective_cost"), ("billed", "billed_cost"))
_STORED = [f.name for f in COST_NUMERIC] + [c.name for c in COST_CATEGORICAL]
_LABELS = ", ".join(column for _, column in BASES)

KIND = Kind(
    name="cost",
    title="Cost",
    summary="Predicted cost (USD) of resource-days, from FOCUS usage",
    row_doc="One resource's usage charges over one UTC day, in FOCUS terms.",
    numeric=COST_NUMERIC,
    categorical=COST_CATEGORICAL,
    target=COST_TARGET.name,
    target_range=COST_TARGET,
    bases=BASES,
    value=Output("cost", "FP64", "Predicted cost (USD): amortised EffectiveCost by default"),
    gates=(("mae", False), ("mape", False)),
    floors=(Floor("r2", 0.0, higher_is_better=True),),
    baseline="aetheredge.models.baselines:UnitPriceBaseline",
    baseline_gates=(("mae", False), ("wape", False)),
    v1_path="/v1/cost/predict",
    estimator="aetheredge.models.cost:CostModel",
    generator="aetheredge.datasets.bills:cost_rows",
    storage=Storage(
        table="cost_usage",
        time_column="period_start",
        query=(
            f"SELECT period_start AS ts, workload_id, {', '.join([*_STORED])}, {_LABELS}"
            " FROM cost_usage WHERE period_start >= %(since)s AND period_start < %(until)s"
        ),
        shard_key="workload_id",
    ),
)
