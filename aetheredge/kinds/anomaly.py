"""The anomaly kind: an Isolation Forest over eight infrastructure metrics per entity.

Rows are one entity's metrics over one interval. Besides the metrics, the model sees
eight z-scores of each metric against the entity's own baseline
(:mod:`aetheredge.features.baselines`), so a host that always runs hot is not flagged
for it. Heavy-tailed metrics are compressed with ``log1p(scale * x)``
(:data:`LOG_SCALE`, see :func:`aetheredge.features.encoding.log_scaler`). Inputs are
the ``telemetry`` table; a row is a labelled positive inside one of its entity's
``incidents``.
"""

from __future__ import annotations

from aetheredge.features.encoding import log_scaler
from aetheredge.features.schema import Numeric
from aetheredge.kinds.base import Floor, Kind, Output, Storage

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
ANOMALY_FEATURES: tuple[str, ...] = tuple(f.name for f in ANOMALY_NUMERIC)
# A telemetry row as ingest stores it: when, which entity, then the raw metrics.
TELEMETRY_COLUMNS: tuple[str, ...] = ("ts", "entity_id", *ANOMALY_FEATURES)
# Each metric's z-score against the entity's own baseline (aetheredge.features.baselines).
ANOMALY_DERIVED: tuple[str, ...] = tuple(f"{name}_z" for name in ANOMALY_FEATURES)
# The most rows a version may flag on the hold-out: ten times the default contamination.
MAX_ALERT_RATE = 0.2
LOG_SCALE = {
    "disk_io_mbps": 1.0,
    "net_in_mbps": 1.0,
    "net_out_mbps": 1.0,
    "latency_p99_ms": 1.0,
    "error_rate": 1000.0,
    "request_rate": 1.0,
}

KIND = Kind(
    name="anomaly",
    title="Anomaly",
    summary="Anomaly scores and flags for telemetry rows",
    row_doc="One entity's infrastructure metrics over one interval.",
    numeric=ANOMALY_NUMERIC,
    target="is_anomaly",
    value=Output("score", "FP64", "Isolation score in (0, 1]; higher is more anomalous"),
    flag=Output("is_anomaly", "BOOL"),
    gates=(("f1", True), ("recall", True), ("alert_rate", False)),
    # A detector that finds nothing, or cries wolf on one row in five, is no detector.
    floors=(
        Floor("recall", 0.0, higher_is_better=True, strict=True),
        Floor("alert_rate", MAX_ALERT_RATE, higher_is_better=False),
    ),
    baseline="aetheredge.models.baselines:ThreeSigmaBaseline",
    baseline_gates=(("average_precision", True),),
    v1_path="/v1/anomaly/score",
    estimator="aetheredge.models.anomaly:AnomalyDetector",
    generator="aetheredge.datasets.synthetic:telemetry",
    storage=Storage(
        table="telemetry",
        time_column="ts",
        query=(
            f"SELECT t.ts, t.entity_id, {', '.join(f't.{n}' for n in ANOMALY_FEATURES)}, "
            "EXISTS (SELECT 1 FROM incidents i WHERE i.entity_id = t.entity_id "
            "AND t.ts >= i.starts_at AND t.ts < i.ends_at) AS is_anomaly "
            "FROM telemetry t WHERE t.ts >= %(since)s AND t.ts < %(until)s"
        ),
        shard_key="entity_id",
        scored=" AND entity_id IS NOT NULL AND NOT degraded",
    ),
    transform=log_scaler(ANOMALY_FEATURES, LOG_SCALE),
    entity="entity_id",
    derived=ANOMALY_DERIVED,
)
