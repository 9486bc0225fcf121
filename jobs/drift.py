"""Drift detection as a Ray job; on drift, it retrains.

    ray job submit --address http://127.0.0.1:8265 -- python -m jobs.drift --model anomaly
    ray job submit ... -- python -m jobs.drift --model cost --hours 168 --no-retrain
    python -m jobs.drift --model all --retrain-here      # the Kubernetes schedule

Compares the last ``--hours`` (default ``AETHER_DRIFT_WINDOW_HOURS``) of telemetry or
cost usage, and of the prediction log, with the champion's reference distribution
(PSI per feature and of the scores). Above ``AETHER_DRIFT_PSI_THRESHOLD`` it writes a
``drift_alarm`` model event and retrains that model by the retraining policy
(:mod:`aetheredge.datasets.policy`): through the Jobs API, as ``python -m
jobs.retrain``, unless a retraining of that model is pending or running; or, with
``--retrain-here``, in this job itself, whose Ray cluster (a RayJob's on Kubernetes)
ends with it. ``--model all`` checks each model in turn.
Prints each report as one JSON line after ``RESULT_MARKER``; exits 0 whether or not it
found drift, 1 when a check or a retraining here failed.
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
from aetheredge.datasets.policy import RetrainPolicy, Window
from aetheredge.kinds import ModelKind
from aetheredge.lifecycle import drift, events
from aetheredge.ops.cluster import connect
from aetheredge.ops.ray_jobs import RESULT_MARKER, policy_retrain_command, submit_retrain_once
from aetheredge.settings import Settings
from jobs.args import add_run_name, chosen, job_parser, when
from jobs.retrain import run as retrain_here

log = logging.getLogger("jobs.drift")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = job_parser("jobs.drift", __doc__)
    parser.add_argument("--hours", type=float, default=None, help="window: the last HOURS")
    parser.add_argument("--since", type=when, default=None, help="window start (ISO 8601)")
    parser.add_argument("--until", type=when, default=None, help="window end, excluded")
    retraining = parser.add_mutually_exclusive_group()
    retraining.add_argument("--no-retrain", action="store_true", help="report and alarm only")
    retraining.add_argument(
        "--retrain-here", action="store_true", help="retrain in this job, not as a new one"
    )
    parser.add_argument("--dashboard", default=None, help="Jobs API; default: this cluster's")
    parser.add_argument(
        "--retrain-rows", type=int, default=None, help="default: AETHER_RETRAIN_ROWS"
    )
    parser.add_argument("--n-estimators", type=int, default=None)
    add_run_name(parser)  # for --retrain-here
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
    argv = policy_retrain_command(
        settings, kind, {"rows": args.retrain_rows}, n_estimators=args.n_estimators
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


def check(settings: Settings, kind: ModelKind, args: argparse.Namespace, window: Window) -> bool:
    """Check ``kind`` for drift over ``window``, alarm and retrain on drift, print the
    report. Whether it all went through."""
    try:
        report = drift.check(settings, kind, window)
    except Exception as exc:
        log.exception("%s: drift check failed", kind)
        print(f"drift check failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return False
    log.info("%s v%s: %s", kind, report.version, report.summary())
    export(report)
    outcome: dict[str, object] = {"retrain_job": None, "blocked_by": None}
    completed = True
    if report.alarm:
        events.record(settings, kind, "drift_alarm", report.version, None, report.to_dict())
        if args.retrain_here:
            details = {"trigger": "drift", "drifted": report.drifted, "in": "drift job"}
            events.record(settings, kind, "retrain", None, report.version, details)
            read = RetrainPolicy.of(settings).read(rows=args.retrain_rows)
            retrained = retrain_here(
                settings, kind, read, n_estimators=args.n_estimators, run_name=args.run_name
            )
            outcome["retrained_here"] = retrained
            completed = retrained != "failed"
        elif not args.no_retrain:
            outcome |= retrain(settings, kind, args, report)
    print(f"{RESULT_MARKER} {json.dumps(report.to_dict() | outcome)}", flush=True)
    return completed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings()
    until = args.until or datetime.now(UTC)
    window = Window(
        args.since or until - timedelta(hours=args.hours or settings.drift_window_hours), until
    )
    connect(settings)
    checked = [check(settings, kind, args, window) for kind in chosen(args.model)]
    time.sleep(settings.metrics_linger_s if args.linger is None else args.linger)
    return 0 if all(checked) else 1


if __name__ == "__main__":
    sys.exit(main())
