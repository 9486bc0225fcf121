"""Retraining as a Ray job.

    ray job submit --address http://127.0.0.1:8265 -- python -m jobs.retrain --model all
    ray job submit ... -- python -m jobs.retrain --model cost --source synthetic --rows 200000
    ray job submit ... -- python -m jobs.retrain --model anomaly --source postgres \\
        --since 2026-11-01 --until 2026-11-26

What it reads defaults to the retraining policy (:mod:`aetheredge.datasets.policy`:
``AETHER_RETRAIN_SOURCE``, ``_DAYS``, ``_ROWS``); flags override it. ``--model all``
retrains each model in turn, as the Kubernetes schedule does. Prints each model's
summary as one JSON line after ``RESULT_MARKER``; exits 0 when every run completed
(promoted or not), 1 when one failed (the reason on stderr, that champion as it was).
A model another retraining is training already is skipped (:mod:`aetheredge.lifecycle.lock`).
Each run counts ``aetheredge_jobs{job="retrain"}`` with its outcome (promoted, rejected,
failed, skipped), and the job stays up ``--linger`` seconds so that Ray exports them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from aetheredge.datasets.policy import Read, RetrainPolicy
from aetheredge.kinds import ModelKind
from aetheredge.lifecycle.lock import exclusive_retraining
from aetheredge.ops.ray_jobs import RESULT_MARKER
from aetheredge.serving.metrics import job_outcome
from aetheredge.settings import Settings
from jobs.args import add_run_name, chosen, job_parser, when
from train.pipeline import retrain

log = logging.getLogger("jobs.retrain")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = job_parser("jobs.retrain", __doc__)
    parser.add_argument(
        "--source",
        default=None,
        help="'synthetic', 'postgres' or a Parquet path; default: AETHER_RETRAIN_SOURCE",
    )
    parser.add_argument("--rows", type=int, default=None, help="default: AETHER_RETRAIN_ROWS")
    parser.add_argument("--n-estimators", type=int, default=None)
    parser.add_argument(
        "--since", type=when, default=None, help="postgres: from; default AETHER_RETRAIN_DAYS ago"
    )
    parser.add_argument(
        "--until", type=when, default=None, help="postgres: until, excluded (default: now)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="default: free cluster CPUs")
    parser.add_argument(
        "--linger", type=float, default=None, help="default: AETHER_METRICS_LINGER_S"
    )
    add_run_name(parser)
    return parser.parse_args(argv)


def run(settings: Settings, kind: ModelKind, read: Read, **options: Any) -> str:
    """Retrain ``kind`` on what ``read`` says (``options``: seed, workers, n_estimators,
    run_name), unless another retraining of it is running; print its summary and count
    its outcome, which it returns: promoted, rejected, failed or skipped."""
    with exclusive_retraining(settings, kind) as ours:
        if not ours:
            reason = "another retraining of this model is running"
            log.info("%s: skipped: %s", kind, reason)
            print(f"{RESULT_MARKER} {json.dumps({'model': kind, 'skipped': reason})}", flush=True)
            job_outcome("retrain", kind, "skipped")
            return "skipped"
        return _retrain(settings, kind, read, **options)


def _retrain(settings: Settings, kind: ModelKind, read: Read, **options: Any) -> str:
    trees = options.pop("n_estimators", None)
    try:
        result = retrain(
            kind,
            source=read.source,
            rows=read.rows,
            window=read.window,
            params={} if trees is None else {"n_estimators": trees},
            settings=settings,
            **options,
        )
    except Exception as exc:
        log.exception("%s: retraining failed", kind)
        print(f"retrain failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        job_outcome("retrain", kind, "failed")
        return "failed"
    print(f"{RESULT_MARKER} {json.dumps(result.summary())}", flush=True)
    outcome = "promoted" if result.promoted else "rejected"
    job_outcome("retrain", kind, outcome)
    return outcome


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings()
    read = RetrainPolicy.of(settings).read(args.source, args.rows, args.since, args.until)
    options = {
        "seed": args.seed,
        "workers": args.workers,
        "n_estimators": args.n_estimators,
        "run_name": args.run_name,
    }
    outcomes = [run(settings, kind, read, **options) for kind in chosen(args.model)]
    time.sleep(settings.metrics_linger_s if args.linger is None else args.linger)
    return 1 if "failed" in outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
