"""The two input contracts: names, units and valid ranges of every model input.

These specs are the single source of truth. The HTTP request models, the synthetic
generators, the Parquet loader and the feature encoders are all derived from them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Numeric:
    """A numeric input with its unit and closed valid range."""

    name: str
    unit: str
    low: float
    high: float
    description: str


@dataclass(frozen=True)
class Categorical:
    """A categorical input and its allowed values (order fixes the one-hot layout)."""

    name: str
    values: tuple[str, ...]
    description: str


ANOMALY_NUMERIC: tuple[Numeric, ...] = (
    Numeric("cpu_util", "fraction", 0.0, 1.0, "CPU utilisation over the interval"),
    Numeric("mem_util", "fraction", 0.0, 1.0, "Memory in use over memory available"),
    Numeric("disk_io_mbps", "MB/s", 0.0, 100_000.0, "Disk read+write throughput"),
    Numeric("net_in_mbps", "Mbit/s", 0.0, 400_000.0, "Network ingress"),
    Numeric("net_out_mbps", "Mbit/s", 0.0, 400_000.0, "Network egress"),
    Numeric("latency_p99_ms", "ms", 0.0, 600_000.0, "99th percentile request latency"),
    Numeric("error_rate", "fraction", 0.0, 1.0, "Failed requests over all requests"),
    Numeric("request_rate", "req/s", 0.0, 10_000_000.0, "Requests served per second"),
)

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

ANOMALY_FEATURES: tuple[str, ...] = tuple(f.name for f in ANOMALY_NUMERIC)
# A telemetry row as ingest stores it: when, which entity, then the raw metrics.
TELEMETRY_COLUMNS: tuple[str, ...] = ("ts", "entity_id", *ANOMALY_FEATURES)
# Each metric's z-score against the entity's own baseline (aetheredge.features.baselines).
ANOMALY_DERIVED: tuple[str, ...] = tuple(f"{name}_z" for name in ANOMALY_FEATURES)
COST_FEATURES: tuple[str, ...] = tuple(f.name for f in COST_NUMERIC) + tuple(
    f"{c.name}={v}" for c in COST_CATEGORICAL for v in c.values
)

NUMERIC: dict[str, tuple[Numeric, ...]] = {"anomaly": ANOMALY_NUMERIC, "cost": COST_NUMERIC}
CATEGORICAL: dict[str, tuple[Categorical, ...]] = {"anomaly": (), "cost": COST_CATEGORICAL}
