"""The settings, grouped by the component that reads them: one class per group, all
of them parts of one :class:`aetheredge.settings.Settings`.

A field is ``AETHER_<FIELD>`` in the environment, whichever group holds it; the groups
only say who reads what, and the settings reference page is generated from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from aetheredge.settings.security import ApiKey


class RegistrySettings(BaseModel):
    """The model registry (MLflow), promotion and how replicas follow the champion."""

    home: Path = Field(
        default=Path(".aetheredge"),
        description="State directory: MLflow store, Ray Train results, local cluster state.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking/registry URI; default SQLite under home."
    )
    mlflow_artifact_location: str | None = Field(
        default=None,
        description="Where new experiments keep artifacts (an object-store URI such as "
        "s3://bucket/aetheredge); default: the tracking server's own store when the "
        "tracking URI is remote (mlflow-artifacts:), else mlartifacts/ under home.",
    )
    model_prefix: str = Field(
        default="aetheredge", description="Registered model names are '<prefix>-<kind>'."
    )
    champion_alias: str = Field(
        default="champion", description="The alias of the version that serves, per model."
    )
    promotion_margin: float = Field(
        default=0.01,
        ge=0.0,
        description="Relative improvement on the primary metric (anomaly F1, cost MAE) a "
        "challenger needs over the champion to be promoted.",
    )
    promotion_tolerance: float = Field(
        default=0.0,
        ge=0.0,
        description="Relative slack on the other gated metrics (anomaly recall and alert "
        "rate, cost MAPE); 0 means no regression at all.",
    )
    registry_retries: int = Field(
        default=1,
        ge=0,
        description="HTTP retries of a serving replica's calls to the tracking server. It "
        "polls again every model_poll_s anyway; MLflow's default, 7 with exponential "
        "backoff, kept replicas 31 s on the old version after a restarted server was back.",
    )
    registry_timeout_s: int = Field(
        default=10,
        ge=1,
        description="How long a serving replica waits on one call to the tracking server "
        "(whole seconds: MLflow reads an integer).",
    )
    model_poll_s: float = Field(
        default=2.0,
        gt=0.0,
        description="How often a replica checks the champion alias of the models it follows.",
    )

    @field_validator("home")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()


class TrainingSettings(BaseModel):
    """Ray and Ray Train: the cluster to join and how a retraining runs."""

    ray_address: str | None = Field(
        default=None, description="Ray GCS address; default: the local cluster of `up`."
    )
    ray_object_store_bytes: int = Field(
        default=256 * 1024**2,
        ge=78 * 1024**2,
        description="Object store of the local cluster (`aetheredge up`) and the tests' one.",
    )
    train_storage: str | None = Field(
        default=None,
        description="Ray Train's storage_path: a path every node shares, or s3:// or "
        "gs://; default: ray_results/ under home (one node only).",
    )
    train_workers: int | None = Field(
        default=None, ge=1, description="Ray Train workers; default: the cluster's free CPUs."
    )
    train_max_failures: int = Field(
        default=2,
        ge=-1,
        description="Worker-group failures a retraining survives, resuming from its last "
        "checkpoint (-1: no limit).",
    )
    train_trees_per_round: int = Field(
        default=25,
        ge=1,
        description="Trees each Ray Train worker grows between checkpoints.",
    )
    cost_basis: Literal["effective", "billed"] = Field(
        default="effective",
        description="The cost model's label: the amortised EffectiveCost, or the BilledCost "
        "(usage a prepaid commitment covers is billed 0).",
    )
    train_poll_s: float = Field(
        default=0.2,
        gt=0,
        description="How often Ray Train's controller polls its workers; Ray's default, "
        "2 s, adds up to that much to each step of every fit.",
    )


class SecuritySettings(BaseModel):
    """API keys and the per-key rate limit."""

    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description="JSON list of {name, sha256, scopes}; `aetheredge keys new` makes one. "
        "Empty: the API is open (a warning says so).",
    )
    require_api_keys: bool = Field(
        default=False, description="Refuse to serve without API keys (set in Kubernetes)."
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="The key this side presents (CLI, client) to a service that wants one.",
    )
    rate_limit_rps: float = Field(
        default=100.0, ge=0.0, description="Requests per second per API key; 0: no limit."
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, description="Requests a key may send at once after a quiet spell."
    )


SERVE_LOOK_BACK_S = 30.0  # Serve's defaults, when the settings leave them unset
SERVE_METRICS_PUSH_S = 10.0


class ServingSettings(BaseModel):
    """The Serve application: ingress, replicas, request limits, batching, the prediction log."""

    serve_host: str = Field(default="127.0.0.1", description="Address the HTTP ingress binds.")
    serve_port: int = Field(default=8000, ge=1, le=65535, description="Port of the HTTP ingress.")
    serve_proxy_location: Literal["HeadOnly", "EveryNode"] = Field(
        default="HeadOnly",
        description="Where Serve runs an HTTP ingress: the head only (one machine), or "
        "every node, so scoring goes on while the head is down (multi-node, Kubernetes).",
    )
    serve_app_name: str = Field(default="aetheredge", description="The Serve application's name.")
    serve_replica_cpus: float = Field(
        default=0.0,
        ge=0.0,
        description="CPUs each Serve replica reserves. 0 on a laptop so retraining keeps "
        "every core; Kubernetes manifests set a real request.",
    )
    serve_max_replicas_per_node: int | None = Field(
        default=None,
        ge=1,
        description="At most this many Scorer replicas on one node, so that a node lost "
        "leaves replicas serving on the others (none: no bound).",
    )
    serve_ingress: Literal["haproxy", "proxy"] = Field(
        default="haproxy",
        description="haproxy: Ray Serve's HAProxy ingress straight to replicas; proxy: "
        "Serve's Python proxy. Read when the Ray cluster starts.",
    )
    serve_throughput_optimized: bool = Field(
        default=True, description="RAY_SERVE_THROUGHPUT_OPTIMIZED; read when Ray starts."
    )
    serve_access_log: bool = Field(
        default=False,
        description="Serve's per-request access log line (costs ~6% of a replica's CPU).",
    )
    serve_min_replicas: int = Field(default=1, ge=1, description="Autoscaling lower bound.")
    serve_max_replicas: int = Field(default=2, ge=1, description="Autoscaling upper bound.")
    serve_upscale_delay_s: float | None = Field(
        default=None,
        ge=0,
        description="How long the load must call for more replicas before Serve adds them "
        "(none: Serve's default, 30 s).",
    )
    serve_downscale_delay_s: float | None = Field(
        default=None,
        ge=0,
        description="How long the load must call for fewer replicas before Serve removes "
        "them (none: Serve's default, 600 s).",
    )
    serve_look_back_period_s: float | None = Field(
        default=None,
        gt=0,
        description="The window over which Serve averages requests in flight to decide "
        "(none: Serve's default, 30 s). After a load step, the average needs most of "
        "a window to reach the new load.",
    )
    serve_metrics_push_s: float | None = Field(
        default=None,
        gt=0,
        description="How often replicas and handles send Serve's autoscaler the requests "
        "in flight (none: Serve's default, 10 s). At most half the look-back window: "
        "with a 10-s window and 10-s pushes, the autoscaler counted 3 of 32 requests "
        "in flight and removed replicas under full load.",
    )
    max_rows_per_request: int = Field(
        default=10_000, ge=1, description="Rows one scoring request may carry; more: 422."
    )
    max_body_bytes: int = Field(default=8 * 1024**2, ge=1024, description="Larger bodies: 413.")
    body_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A request body must arrive within this long, else 408: a slow client "
        "cannot hold a replica's request slot.",
    )
    batch_max_size: int = Field(
        default=64, ge=1, description="Requests one dynamic batch may merge (@serve.batch)."
    )
    batch_wait_s: float = Field(
        default=0.0,
        ge=0.0,
        description="How long a batch waits to fill; 0 merges whatever queued meanwhile.",
    )
    batch_bypass_rows: int = Field(
        default=256, ge=1, description="Requests with this many rows skip batching."
    )
    max_ongoing_requests: int = Field(
        default=128, ge=1, description="Per replica; raised to batch_max_size if below it."
    )
    inference_threads: int = Field(
        default=1, ge=1, description="ONNX Runtime threads per model per replica."
    )
    prediction_log: bool = Field(
        default=True, description="Write every scored row to the predictions table."
    )
    log_batch_rows: int = Field(default=5_000, ge=1, description="Rows per log write.")
    log_interval_s: float = Field(
        default=0.5, gt=0, description="Longest a scored row waits in memory before writing."
    )
    log_buffer_rows: int = Field(
        default=100_000,
        ge=1,
        description="Rows the log holds in memory; scoring waits for a flush beyond this.",
    )

    @model_validator(mode="after")
    def _autoscaler_sees_its_window(self) -> ServingSettings:
        window = self.serve_look_back_period_s or SERVE_LOOK_BACK_S
        push = self.serve_metrics_push_s or SERVE_METRICS_PUSH_S
        if push > window / 2:
            raise ValueError(
                f"AETHER_SERVE_METRICS_PUSH_S ({push:g} s) must be at most half of "
                f"AETHER_SERVE_LOOK_BACK_PERIOD_S ({window:g} s): the autoscaler would "
                "see gaps in its window and count too few requests in flight"
            )
        return self


class StoreSettings(BaseModel):
    """PostgreSQL and Redis: where they are, pools, timeouts, partitions, online baselines."""

    database_url: str = Field(
        default="postgresql://127.0.0.1:5432/test",
        description="PostgreSQL DSN (asyncpg/libpq form) for telemetry, cost usage, the "
        "prediction log and model events.",
    )
    database_schema: str = Field(
        default="aetheredge",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Schema holding the platform's tables (created by `aetheredge db migrate`).",
    )
    db_pool_size: int = Field(default=4, ge=1, description="Connections per process.")
    db_acquire_timeout_s: float = Field(
        default=1.0,
        gt=0,
        description="Longest wait for a pooled connection before ingest answers 503.",
    )
    db_command_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest a single statement may run."
    )
    partition_days_ahead: int = Field(
        default=3, ge=0, description="Daily partitions `db maintain` creates ahead of today."
    )
    retention_days: int | None = Field(
        default=None, ge=1, description="Drop telemetry/prediction partitions older than this."
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Online features and spill stream."
    )
    redis_timeout_s: float = Field(
        default=0.25, gt=0, description="Longest scoring waits on Redis before going degraded."
    )
    redis_retry_s: float = Field(
        default=1.0, ge=0, description="After a Redis failure, score degraded this long."
    )
    online_cache_s: float = Field(
        default=1.0,
        ge=0,
        description="How long a replica reuses a baseline it read from Redis (0: never).",
    )
    online_ttl_s: int = Field(
        default=7 * 86400, ge=60, description="An entity's baseline expires after this idle."
    )


class IngestSettings(BaseModel):
    """Ingest request limits."""

    ingest_max_rows: int = Field(default=1_000_000, ge=1, description="Rows per ingest request.")
    ingest_max_body_bytes: int = Field(
        default=128 * 1024**2, ge=1024, description="Larger ingest bodies get 413."
    )
    focus_max_excluded_share: float = Field(
        default=0.001,
        ge=0.0,
        le=1.0,
        description="A FOCUS ingest fails when rows it cannot read hold more of the "
        "export's absolute BilledCost than this.",
    )


class LifecycleSettings(BaseModel):
    """Scheduled retraining, the retraining policy, drift checks and short-lived jobs."""

    metrics_linger_s: float = Field(
        default=12.0,
        ge=0.0,
        description="How long a short-lived job (drift check, retraining) stays up after "
        "setting its metrics, so that Ray's agent exports them (it does every ~10 s).",
    )
    retrain_schedule: str = Field(
        default="0 3 * * *",
        description="Cron expression (UTC) for scheduled retraining of every model.",
    )
    drift_schedule: str = Field(
        default="*/30 * * * *",
        description="Cron expression (UTC) for the drift check of every model.",
    )
    retrain_source: str = Field(
        default="postgres",
        description="Where scheduled and drift-triggered retraining reads: 'postgres' (the "
        "last retrain_days), 'synthetic' or a Parquet path.",
    )
    retrain_days: float = Field(default=7.0, gt=0, description="Days of data a retrain reads.")
    retrain_rows: int = Field(default=200_000, ge=100, description="Rows a retrain reads.")
    drift_psi_threshold: float = Field(
        default=0.2, gt=0, description="PSI above which a feature (or the scores) has drifted."
    )
    drift_window_hours: float = Field(
        default=24.0, gt=0, description="The recent window the drift job compares."
    )
    drift_min_rows: int = Field(
        default=500, ge=1, description="Fewer rows in the window than this: no drift verdict."
    )
    drift_max_rows: int = Field(
        default=200_000, ge=1, description="Most recent rows the drift job reads per window."
    )

    @field_validator("retrain_schedule", "drift_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value
