"""Drift detection as a Ray job; on drift, it submits one retraining job.

    ray job submit --address http://127.0.0.1:8265 -- python -m jobs.drift --model anomaly
    ray job submit ... -- python -m jobs.drift --model cost --hours 168 --no-retrain

Compares the last ``--hours`` (default ``AETHER_DRIFT_WINDOW_HOURS``) of telemetry or
cost usage, and of the prediction log, with the champion's reference distribution
(PSI per feature and of the scores). Above ``AETHER_DRIFT_PSI_THRESHOLD`` it writes a
``drift_alarm`` model event and submits ``python -m jobs.retrain`` on recent data
(``AETHER_RETRAIN_SOURCE``, ``_DAYS``, ``_ROWS``) through the Jobs API, unless a
retraining job of that model is pending or running.
Prints its report as one JSON line after ``RESULT_MARKER``; exits 0 whether or not it
found drift, 1 when it could not check.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta

from ray.job_submission import JobSubmissionClient
from ray.util.metrics import Gauge

from aetheredge.artifacts.reference import DriftReport
from aetheredge.datasets.frames import Window
from aetheredge.kinds import ModelKind
from aetheredge.lifecycle import drift, events
from aetheredge.ops.cluster import connect
from aetheredge.ops.ray_jobs import RESULT_MARKER, recent_retrain_command, submit_retrain_once
from aetheredge.settings import Settings
from jobs.args import job_parser, when

log = logging.getLogger("jobs.drift")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = job_parser("jobs.drift", __doc__)
    parser.add_argument("--hours", type=float, default=None, help="window: the last HOURS")
    parser.add_argument("--since", type=when, default=None, help="window start (ISO 8601)")
    parser.add_argument("--until", type=when, default=None, help="window end, excluded")
    parser.add_argument("--no-retrain", action="store_true", help="report and alarm only")
    parser.add_argument("--dashboard", default=None, help="Jobs API; default: this cluster's")
    parser.add_argument(
        "--retrain-rows", type=int, default=None, help="default: AETHER_RETRAIN_ROWS"
    )
    parser.add_argument("--n-estimators", type=int, default=None)
    parser.add_argument(
        "--linger",
        type=float,
        default=None,
        help="seconds to stay up so Ray exports the gauges; default: AETHER_METRICS_LINGER_S",
    )
    return parser.parse_args(argv)


def export(report: DriftReport) -> None:
    """Set the drift gauges (Ray's metrics agent exports them to Prometheus)."""
    psi = Gauge(
        "aetheredge_drift_psi",
        description="Population Stability Index of a feature (or 'score') vs. the champion's "
        "training distribution, from the latest drift check.",
        tag_keys=("model", "feature"),
    )
    for feature, value in report.psi.items():
        psi.set(value, tags={"model": report.model, "feature": feature})
    if report.score_psi is not None:
        psi.set(report.score_psi, tags={"model": report.model, "feature": "score"})
    alarm = Gauge(
        "aetheredge_drift_alarm",
        description="1 when the latest drift check found drift, else 0.",
        tag_keys=("model",),
    )
    alarm.set(float(report.alarm), tags={"model": report.model})


def retrain(
    settings: Settings, kind: ModelKind, args: argparse.Namespace, report: DriftReport
) -> dict[str, str | None]:
    """Submit one retraining job for ``kind`` unless one is already on its way."""
    argv = recent_retrain_command(
        settings, kind, rows=args.retrain_rows, n_estimators=args.n_estimators
    )
    client = JobSubmissionClient(args.dashboard)
    submitted, blocking = submit_retrain_once(settings, client, kind, argv)
    if submitted:
        log.info("%s: drift; submitted retraining job %s", kind, submitted)
        details = {"job_id": submitted, "trigger": "drift", "drifted": report.drifted}
        events.record(settings, kind, "retrain", None, report.version, details)
    else:
        log.info("%s: drift; retraining job %s is already on its way", kind, blocking)
    return {"retrain_job": submitted, "blocked_by": blocking}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings()
    until = args.until or datetime.now(UTC)
    window = Window(
        args.since or until - timedelta(hours=args.hours or settings.drift_window_hours), until
    )
    connect(settings)
    try:
        report = drift.check(settings, args.model, window)
    except Exception as exc:
        log.exception("drift check failed")
        print(f"drift check failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    log.info("%s v%s: %s", args.model, report.version, report.summary())
    export(report)
    outcome: dict[str, str | None] = {"retrain_job": None, "blocked_by": None}
    if report.alarm:
        events.record(settings, args.model, "drift_alarm", report.version, None, report.to_dict())
        if not args.no_retrain:
            outcome = retrain(settings, args.model, args, report)
    print(f"{RESULT_MARKER} {json.dumps(report.to_dict() | outcome)}", flush=True)
    time.sleep(settings.metrics_linger_s if args.linger is None else args.linger)
    return 0


if __name__ == "__main__":
    sys.exit(main())
