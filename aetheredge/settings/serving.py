"""The Serve application: ingress, replicas, request limits, batching, the prediction log."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ServingSettings(BaseModel):
    """The Serve application: ingress, replicas, request limits, batching, the prediction log."""

    serve_host: str = Field(default="127.0.0.1", description="Address the HTTP ingress binds.")
    serve_port: int = Field(default=8000, ge=1, le=65535, description="Port of the HTTP ingress.")
    serve_app_name: str = Field(default="aetheredge", description="The Serve application's name.")
    serve_replica_cpus: float = Field(
        default=0.0,
        ge=0.0,
        description="CPUs each Serve replica reserves. 0 on a laptop so retraining keeps "
        "every core; Kubernetes manifests set a real request.",
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
