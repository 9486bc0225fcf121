"""The demo's lifecycle steps: a rejected challenger, a rollback, a drift-triggered retrain.

Each step shows the versions served before and after, read from the running service:
replicas follow the champion alias on their own, so nothing is redeployed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
from rich.console import Console
from rich.table import Table

from aetheredge.api.client import ServiceClient
from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.frames import holdout_mask, load_frame
from aetheredge.kinds import ModelKind
from aetheredge.lifecycle import champion
from aetheredge.ops.entrypoints import DRIFT_JOB, job_argv
from aetheredge.settings import Settings


def wait_served(
    client: ServiceClient, kind: ModelKind, version: str, timeout_s: float = 30
) -> float:
    """Seconds until the service answers ``kind`` requests with ``version``."""
    started = time.monotonic()
    while (client.served_versions() or {}).get(kind) != version:
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{kind} v{version} not served after {timeout_s:.0f}s")
        time.sleep(0.2)
    return time.monotonic() - started


def show_swap(
    console: Console, client: ServiceClient, kind: ModelKind, before: str, after: str
) -> None:
    """Wait for the service to move from ``before`` to ``after`` and say how long it took."""
    if before == after:
        console.print(f"  serving {kind} v{before} → v{after} (unchanged)")
        return
    seconds = wait_served(client, kind, after)
    console.print(
        f"  serving {kind} v{before} → v{after}: the replicas swapped in place, no redeploy "
        f"(waited {seconds:.1f}s)"
    )


def rollback(settings: Settings, client: ServiceClient, console: Console, kind: ModelKind) -> None:
    """`aetheredge models rollback` and the service following it."""
    current, restored = champion.rollback(Registry(settings), kind, "demo: rollback")
    console.print(f"$ aetheredge models rollback {kind}  → champion v{current} → v{restored}")
    show_swap(console, client, kind, current, restored)


def training_hosts(rows: int, end: datetime) -> pd.DataFrame:
    """The hold-out hosts of the anomaly model's synthetic training fleet (``rows`` rows,
    seed 0), moved in time so their last row is at ``end`` (naive UTC)."""
    frame = load_frame("anomaly", rows=rows, seed=0)
    frame = frame[holdout_mask(frame)]
    return frame.assign(ts=frame.ts + (pd.Timestamp(end) - frame.ts.max()))


def released(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` after a release that made every host busier and slower."""
    return frame.assign(
        cpu_util=(frame.cpu_util + 0.3).clip(upper=1.0),
        latency_p99_ms=frame.latency_p99_ms * 3,
        request_rate=frame.request_rate * 2.5,
    )


def drift(
    client: ServiceClient,
    console: Console,
    rows: int,
    submit: Callable[[list[str]], dict],
) -> dict:
    """Shifted telemetry in, scored, then the drift job; returns the drift job's report."""
    now = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
    fleet = released(training_hosts(rows, now))
    accepted = sum(a["accepted"] for a in client.ingest_frame(fleet, 5_000))
    scored = sum(len(b["results"]) for b in client.predict("anomaly", fleet.to_dict("records")))
    console.print(f"ingested {accepted:,} shifted telemetry rows, scored {scored:,} of them")
    time.sleep(2)  # the prediction log reaches PostgreSQL
    argv = job_argv(DRIFT_JOB, "--model", "anomaly", "--since", str(fleet.ts.min()))
    report = submit([*argv, "--n-estimators", "30", "--linger", "0"])
    table = Table(title=f"PSI vs. anomaly v{report['version']}'s training data")
    table.add_column("feature")
    table.add_column("PSI")
    for name, value in [*report["psi"].items(), ("score", report["score_psi"])]:
        shown = "" if value is None else f"{value:.3f}"
        table.add_row(name, f"[red]{shown}[/]" if name in report["drifted"] else shown)
    console.print(table)
    console.print(report["summary"])
    return report
