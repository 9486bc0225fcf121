"""What the scoring path measures, for Prometheus.

:class:`Meter` records requests (by model, API and status code), their latency, rows
scored, anomalies flagged, rows per engine call, the served version and engine (compiled
or fallback), degraded scoring, ingest outcomes and the prediction log's backlog.
It takes its metric classes from a module with Ray's metrics API: ``ray.serve.metrics``
in a Serve replica, which adds the application, deployment and replica tags, so every
series lands on Ray's Prometheus endpoint. Without one (plain-Python tests) it records
nothing and costs nothing.

Ray drops a gauge series that is not set again within about two export intervals
(~20 s), so the replica's gauges (served version, engine, the log's backlog) are set
again every :data:`REFRESH_S` by :meth:`Meter.start`'s task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from aetheredge.serving.runtime import ENGINES, Scores

log = logging.getLogger(__name__)
REFRESH_S = 5.0
LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384]


def job_outcome(job: str, model: str, outcome: str) -> None:
    """Count one finished job (``retrain``: promoted, rejected, failed) on Ray's metrics;
    the job then stays up ``AETHER_METRICS_LINGER_S`` so that it is exported."""
    import ray
    from ray.util.metrics import Counter

    if not ray.is_initialized():
        try:
            ray.init(address="auto", log_to_driver=False)  # the job's own cluster
        except ConnectionError:
            log.warning("no Ray cluster: the %s job's outcome is not counted", job)
            return
    Counter(
        "aetheredge_jobs",
        description="Finished platform jobs by kind, model and outcome.",
        tag_keys=("job", "model", "outcome"),
    ).inc(tags={"job": job, "model": model, "outcome": outcome})


class Request:
    """One request being measured: what it scored, set by the handler (and only read
    when metrics are on)."""

    def __init__(self) -> None:
        self.scores: Scores | None = None

    def scored(self, scores: Scores) -> None:
        self.scores = scores


class Meter:
    """The scoring path's Prometheus metrics (no-ops when ``metrics`` is None)."""

    def __init__(self, metrics: ModuleType | None = None) -> None:
        self.on = metrics is not None
        if metrics is None:
            return
        self.requests = metrics.Counter(
            "aetheredge_requests",
            description="Scoring requests by model, API (v1, v2) and HTTP status code.",
            tag_keys=("model", "api", "code"),
        )
        self.latency = metrics.Histogram(
            "aetheredge_request_latency_seconds",
            description="Scoring request latency inside the replica.",
            boundaries=LATENCY_BUCKETS_S,
            tag_keys=("model", "api"),
        )
        self.rows = metrics.Counter(
            "aetheredge_rows_scored", description="Rows scored.", tag_keys=("model",)
        )
        self.anomalies = metrics.Counter(
            "aetheredge_anomalies",
            description="Rows flagged anomalous (anomaly rate: this over rows scored).",
            tag_keys=("model",),
        )
        self.batch = metrics.Histogram(
            "aetheredge_batch_rows",
            description="Rows per engine call, after dynamic batching.",
            boundaries=BATCH_BUCKETS,
            tag_keys=("model",),
        )
        self.version = metrics.Gauge(
            "aetheredge_model_version_info",
            description="1 for the model version each replica serves, 0 for one it served.",
            tag_keys=("model", "version"),
        )
        self.ingested = metrics.Counter(
            "aetheredge_ingest_rows",
            description="Telemetry rows received, by outcome (accepted, duplicate, rejected).",
            tag_keys=("outcome",),
        )
        self.engine = metrics.Gauge(
            "aetheredge_inference_engine",
            description="1 for the engine serving each model: onnxruntime (compiled) or sklearn.",
            tag_keys=("model", "engine"),
        )
        self.fallbacks = metrics.Counter(
            "aetheredge_compiled_fallbacks",
            description="Model loads that fell back from the compiled engine to scikit-learn.",
            tag_keys=("model",),
        )
        self.degraded_requests = metrics.Counter(
            "aetheredge_degraded_requests",
            description="Anomaly requests scored without entity baselines (Redis unavailable).",
        )
        self.backlog = metrics.Gauge(
            "aetheredge_prediction_log_backlog_rows",
            description="Scored rows buffered in the replica, not yet written or spilled.",
        )
        self.spilled = metrics.Gauge(
            "aetheredge_prediction_log_spilled_batches",
            description="Prediction-log batches waiting in a spill (store: stream or file; "
            "-1: Redis does not answer).",
            tag_keys=("store",),
        )
        self._served: dict[str, str] = {}
        self._gauges: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Any, float]] = {}
        self._task: asyncio.Task[None] | None = None

    @contextmanager
    def request(self, model: str, api: str) -> Iterator[Request]:
        """Measure one request: 200, or the status of the refusal it raised (500 if none)."""
        measured, start, code = Request(), time.perf_counter(), "200"
        try:
            yield measured
        except Exception as exc:
            code = str(getattr(exc, "status", 500))
            raise
        finally:
            if self.on:
                self._record(model, api, code, time.perf_counter() - start, measured)

    def _record(self, model: str, api: str, code: str, seconds: float, done: Request) -> None:
        self.requests.inc(tags={"model": model, "api": api, "code": code})
        self.latency.observe(seconds, tags={"model": model, "api": api})
        scores = done.scores
        if scores is None or not len(scores.values):
            return
        self.rows.inc(len(scores.values), tags={"model": model})
        if scores.threshold is not None and (flagged := int(scores.flags.sum())):
            self.anomalies.inc(flagged, tags={"model": model})

    def batch_rows(self, model: str, rows: int) -> None:
        if self.on:
            self.batch.observe(rows, tags={"model": model})

    @staticmethod
    def _key(gauge: Any, tags: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return gauge.info["name"], tuple(sorted(tags.items()))

    def _set(self, gauge: Any, value: float, **tags: str) -> None:
        """Set a gauge and keep it set (see :meth:`refresh`)."""
        gauge.set(value, tags=tags)
        self._gauges[self._key(gauge, tags)] = (gauge, value)

    def refresh(self) -> None:
        """Set every kept gauge again, before Ray would drop it as stale."""
        for (_, tags), (gauge, value) in list(self._gauges.items()):
            gauge.set(value, tags=dict(tags))

    def start(self) -> None:
        """Keep the gauges fresh from the running event loop (once)."""
        if self.on and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._refresh_forever())

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            self.refresh()

    def loaded(self, model: str, version: str, engine: str, fallbacks: int) -> None:
        """``version`` of ``model`` now serves on ``engine`` (the one before, no longer);
        ``fallbacks``: compiled loads that fell back to scikit-learn on the way."""
        if not self.on:
            return
        previous = self._served.get(model)
        if previous is not None and previous != version:
            old = {"model": model, "version": previous}
            self.version.set(0, tags=old)  # not kept: it ages out
            self._gauges.pop(self._key(self.version, old), None)
        self._set(self.version, 1, model=model, version=version)
        self._served[model] = version
        for name in ENGINES:
            self._set(self.engine, float(name == engine), model=model, engine=name)
        if fallbacks:
            self.fallbacks.inc(fallbacks, tags={"model": model})

    def degraded(self) -> None:
        """One anomaly request scored without Redis baselines."""
        if self.on:
            self.degraded_requests.inc()

    def log_state(self, buffered_rows: int, spill_depth: dict[str, int]) -> None:
        """The prediction log's backlog (``PredictionLog(on_state=...)``)."""
        if self.on:
            self._set(self.backlog, buffered_rows)
            for store, batches in spill_depth.items():
                self._set(self.spilled, batches, store=store)

    def ingest(self, counts: dict[str, int]) -> None:
        if self.on:
            for outcome, rows in counts.items():
                if rows:
                    self.ingested.inc(rows, tags={"outcome": outcome})
