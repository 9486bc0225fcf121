"""Retraining as a Ray job.

    ray job submit --address http://127.0.0.1:8265 -- \\
        python -m jobs.retrain --model cost --source synthetic --rows 200000
    ray job submit ... -- python -m jobs.retrain --model anomaly --source postgres \\
        --since 2026-11-01 --until 2026-11-26

Exits 0 after a completed run (promoted or not) and prints its summary as one JSON
line after ``RESULT_MARKER``; exits 1 with the reason on stderr when it fails, leaving
the champion as it was. Either way it counts ``aetheredge_jobs{job="retrain"}`` with its
outcome (promoted, rejected, failed) and stays up ``--linger`` seconds so that Ray
exports it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import datetime

from aetheredge.datasets.frames import Window
from aetheredge.ops.ray_jobs import RESULT_MARKER
from aetheredge.serving.metrics import job_outcome
from aetheredge.settings import Settings
from jobs.args import job_parser, when
from train.pipeline import retrain


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = job_parser("jobs.retrain", __doc__)
    parser.add_argument(
        "--source", default="synthetic", help="'synthetic', 'postgres' or a Parquet path"
    )
    parser.add_argument(
        "--since", type=when, default=None, help="postgres: from (ISO 8601; default 30 days ago)"
    )
    parser.add_argument(
        "--until", type=when, default=None, help="postgres: until, excluded (default: now)"
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="default: free cluster CPUs")
    parser.add_argument("--n-estimators", type=int, default=None)
    parser.add_argument(
        "--linger", type=float, default=None, help="default: AETHER_METRICS_LINGER_S"
    )
    return parser.parse_args(argv)


def _window(since: datetime | None, until: datetime | None) -> Window | None:
    if since is None and until is None:
        return None
    window = Window.last(30, until)
    return Window(since or window.since, window.until)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    params = {} if args.n_estimators is None else {"n_estimators": args.n_estimators}
    try:
        result = retrain(
            args.model,
            source=args.source,
            rows=args.rows,
            seed=args.seed,
            workers=args.workers,
            params=params,
            window=_window(args.since, args.until),
        )
    except Exception as exc:
        logging.getLogger("jobs.retrain").exception("retraining failed")
        print(f"retrain failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        _finish(args, "failed")
        return 1
    print(f"{RESULT_MARKER} {json.dumps(result.summary())}", flush=True)
    _finish(args, "promoted" if result.promoted else "rejected")
    return 0


def _finish(args: argparse.Namespace, outcome: str) -> None:
    job_outcome("retrain", args.model, outcome)
    time.sleep(Settings().metrics_linger_s if args.linger is None else args.linger)


if __name__ == "__main__":
    sys.exit(main())
