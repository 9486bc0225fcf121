"""The cost kind: a Random Forest predicting a workload's billed cost from its usage.

Rows are one workload's usage over one billing period: six numeric usage measures and
three categoricals, one-hot encoded in the order their values are listed here. Inputs
and the billed cost are the ``cost_usage`` table (FOCUS bills land there,
:mod:`aetheredge.ingest.focus.days`).
"""

from __future__ import annotations

from aetheredge.features.schema import Categorical, Numeric
from aetheredge.kinds.base import Floor, Kind, Output, Storage

REGIONS: tuple[str, ...] = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "sa-east-1",
)
PRICING_MODELS: tuple[str, ...] = ("on-demand", "spot", "reserved")
INSTANCE_FAMILIES: tuple[str, ...] = ("general", "compute", "memory", "gpu")

COST_NUMERIC: tuple[Numeric, ...] = (
    Numeric("vcpu_hours", "vCPU-h", 0.0, 10_000_000.0, "vCPU time billed in the period"),
    Numeric("memory_gib_hours", "GiB-h", 0.0, 100_000_000.0, "Memory reserved x hours"),
    Numeric("storage_gib_month", "GiB-month", 0.0, 100_000_000.0, "Block/object storage held"),
    Numeric("egress_gib", "GiB", 0.0, 100_000_000.0, "Data sent out of the region"),
    Numeric("gpu_hours", "GPU-h", 0.0, 1_000_000.0, "Accelerator time billed"),
    Numeric("requests", "count", 0.0, 1e13, "API/load-balancer requests served"),
)
COST_CATEGORICAL: tuple[Categorical, ...] = (
    Categorical("region", REGIONS, "Cloud region the workload ran in"),
    Categorical("pricing_model", PRICING_MODELS, "How the capacity was bought"),
    Categorical("instance_family", INSTANCE_FAMILIES, "Instance family of the capacity"),
)
COST_TARGET = Numeric("cost_usd", "USD", 0.0, 1e12, "Billed cost for the period")
_STORED = [f.name for f in COST_NUMERIC] + [c.name for c in COST_CATEGORICAL]

KIND = Kind(
    name="cost",
    title="Cost",
    summary="Predicted cost (USD) for usage rows",
    row_doc="One workload's usage over one billing period.",
    numeric=COST_NUMERIC,
    categorical=COST_CATEGORICAL,
    target=COST_TARGET.name,
    target_range=COST_TARGET,
    value=Output("cost_usd", "FP64"),
    gates=(("mae", False), ("mape", False)),
    floors=(Floor("r2", 0.0, higher_is_better=True),),
    baseline="aetheredge.models.baselines:UnitPriceBaseline",
    baseline_gates=(("mae", False), ("wape", False)),
    v1_path="/v1/cost/predict",
    estimator="aetheredge.models.cost:CostModel",
    generator="aetheredge.datasets.synthetic:cost_usage",
    storage=Storage(
        table="cost_usage",
        time_column="period_start",
        query=(
            f"SELECT period_start AS ts, workload_id, {', '.join([*_STORED, COST_TARGET.name])}"
            " FROM cost_usage WHERE period_start >= %(since)s AND period_start < %(until)s"
        ),
        shard_key="workload_id",
    ),
)
