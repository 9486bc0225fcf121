"""Soak: the whole stack at half its measured peak for a long while (default 10 minutes).

Starts a local Ray cluster as ``aetheredge up`` does, trains and promotes the anomaly
model, and deploys two replicas. Then:
  1. measures the peak: closed-loop 8-row scoring requests for ``--peak-duration`` s;
  2. warms up at half of it for ``--warmup`` s, then records each replica's memory;
  3. soaks for ``--duration`` s: requests at half the peak, open loop (sent on a fixed
     schedule, latency counted from when each was due, so a stall cannot hide itself),
     and one telemetry batch a second through ingest (PostgreSQL, Redis baselines),
     the prediction log writing every scored row.
Every ``--window`` s it records throughput, p50/p99, errors and each replica's resident
memory. The baseline of each figure is the same run's first window (memory: after the
warm-up): p99 drift is last window against first, memory growth is end against start.
Exits 1 when either passes its target (p99 drift ≤ 20%, memory growth ≤ 5%) or any
request failed.

    python -m benchmarks.soak                 # make soak: 10 minutes
    python -m benchmarks.soak --duration 120  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np
import orjson
import pandas as pd

from aetheredge.api import routes
from aetheredge.datasets.synthetic import telemetry
from aetheredge.ingest.telemetry import json_body
from aetheredge.kinds.anomaly import ANOMALY_FEATURES, TELEMETRY_COLUMNS
from aetheredge.ops.cluster import LocalCluster, free_port
from aetheredge.ops.deployment import deploy
from aetheredge.settings import Settings
from aetheredge.stores.admin import drop_schema, migrate_schema
from benchmarks.http_load import ROUTE, replica_rss_mb, train_champion
from benchmarks.loadgen import load
from benchmarks.report import save, show

P99_DRIFT = 0.20
MEMORY_GROWTH = 0.05
ENTITIES = 64


@dataclass
class Window:
    """What one stretch of the soak measured."""

    start_s: float
    sent: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    rss_mb: dict[int, float] = field(default_factory=dict)

    def summary(self, seconds: float) -> dict[str, float]:
        ms = np.array(self.latencies_ms or [np.nan])
        return {
            "start_s": self.start_s,
            "requests_per_s": len(self.latencies_ms) / seconds,
            "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)),
            "errors": self.errors,
        }


def _bodies(rows: int = 8) -> list[bytes]:
    """Scoring requests of ``rows`` rows over a fleet of ENTITIES hosts (Redis baselines)."""
    fleet = telemetry(ENTITIES * 16, seed=3, start="2026-01-01")
    fleet["entity_id"] = "soak-" + (fleet.index % ENTITIES).astype(str)
    records = fleet[["entity_id", *ANOMALY_FEATURES]].to_dict("records")
    return [orjson.dumps({"rows": records[i : i + rows]}) for i in range(0, len(records), rows)]


def _telemetry(seed: int) -> bytes:
    """One new telemetry row per host, stamped with the current second."""
    frame = telemetry(ENTITIES, seed=seed, start="2026-01-01")[list(TELEMETRY_COLUMNS)]
    frame["entity_id"] = [f"soak-{i}" for i in range(ENTITIES)]
    frame["ts"] = pd.Timestamp.now(tz="UTC").floor("s")
    return json_body(frame)


async def _open_loop(
    base: str, rate: float, seconds: float, window_s: float, sample_rss
) -> list[Window]:
    """Requests at ``rate`` per second for ``seconds``, each sent when due; per window."""
    bodies = _bodies()
    windows: list[Window] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        started = time.perf_counter()

        async def one(i: int, due: float) -> None:
            window = windows[int((due - started) // window_s)]
            window.sent += 1
            try:
                response = await client.post(
                    ROUTE, content=bodies[i % len(bodies)], headers=headers
                )
                failed = response.status_code != 200
            except httpx.HTTPError:
                failed = True
            window.errors += failed
            if not failed:
                window.latencies_ms.append((time.perf_counter() - due) * 1e3)

        async def ingest() -> None:
            for second in range(int(seconds)):
                await asyncio.sleep(max(0.0, started + second - time.perf_counter()))
                body = _telemetry(second)
                try:
                    response = await client.post(routes.V1_TELEMETRY, content=body, headers=headers)
                    failed = response.status_code != 200
                except httpx.HTTPError:
                    failed = True
                windows[min(int(second // window_s), len(windows) - 1)].errors += failed

        tasks = {asyncio.create_task(ingest())}
        total = int(rate * seconds)
        for i in range(total):
            due = started + i / rate
            index = int((due - started) // window_s)
            while len(windows) <= index:
                if windows:  # the window just ended: its replicas' memory
                    windows[-1].rss_mb = await asyncio.to_thread(sample_rss)
                windows.append(Window(start_s=len(windows) * window_s))
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(one(i, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        windows[-1].rss_mb = await asyncio.to_thread(sample_rss)
    return windows


def _report(peak: float, rate: float, start_rss: dict[int, float], windows, window_s: float):
    rows, records = [], []
    for window in windows:
        summary = window.summary(window_s)
        records.append({**summary, "rss_mb": window.rss_mb})
        rows.append(
            [
                f"{summary['start_s']:.0f}",
                f"{summary['requests_per_s']:.0f}",
                f"{summary['p50_ms']:.1f}",
                f"{summary['p99_ms']:.1f}",
                str(summary["errors"]),
                ", ".join(f"{mb:.0f}" for mb in window.rss_mb.values()),
            ]
        )
    show(
        f"Soak: anomaly scoring at {rate:.0f} req/s (50% of a {peak:.0f} req/s peak)"
        " + 1 ingest batch/s",
        ["window start s", "req/s", "p50 ms", "p99 ms", "errors", "replica RSS MiB"],
        rows,
    )
    first, last = records[0], records[-1]
    drift = last["p99_ms"] / first["p99_ms"] - 1
    end_rss = windows[-1].rss_mb
    growth = {pid: end_rss[pid] / mb - 1 for pid, mb in start_rss.items() if pid in end_rss}
    errors = sum(w.errors for w in windows)
    sent = sum(w.sent for w in windows)
    verdicts = {
        f"p99 drift {drift:+.1%} (limit {P99_DRIFT:.0%})": drift <= P99_DRIFT,
        "memory growth "
        + ", ".join(f"{g:+.1%}" for g in growth.values())
        + f" (limit {MEMORY_GROWTH:.0%})": bool(growth) and max(growth.values()) <= MEMORY_GROWTH,
        f"errors {errors} of {sent} requests": errors == 0,
        f"replicas kept: {len(growth)} of {len(start_rss)}": len(growth) == len(start_rss),
    }
    for text, ok in verdicts.items():
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return records, drift, growth, all(verdicts.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="soak seconds")
    parser.add_argument("--window", type=float, default=60.0, help="seconds per window")
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--peak-duration", type=float, default=15.0)
    parser.add_argument("--peak-concurrency", type=int, default=32)
    parser.add_argument("--load", type=float, default=0.5, help="fraction of the peak")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--rows", type=int, default=50_000, help="training rows")
    args = parser.parse_args()
    settings = Settings(
        home=Path(tempfile.mkdtemp(prefix="aetheredge-soak-")),
        database_schema=f"soak_{uuid.uuid4().hex[:10]}",
        serve_port=free_port(),
        serve_min_replicas=args.replicas,
        serve_max_replicas=args.replicas,
    )
    asyncio.run(migrate_schema(settings))
    cluster = LocalCluster.start(settings)
    try:
        version = train_champion(settings, args.rows)
        deploy(settings, cluster.dashboard_url, {"anomaly": version})
        base = f"http://127.0.0.1:{settings.serve_port}"
        peak = load(f"{base}{ROUTE}", _bodies()[0], args.peak_concurrency, args.peak_duration)
        rate = args.load * peak.requests_per_s
        print(
            f"peak {peak.requests_per_s:.0f} req/s (p99 {peak.p99_ms:.1f} ms); soak at {rate:.0f}"
        )

        def sample_rss() -> dict[int, float]:
            return replica_rss_mb(cluster.dashboard_url, settings.serve_app_name)

        asyncio.run(_open_loop(base, rate, args.warmup, args.warmup, sample_rss))
        start_rss = sample_rss()
        windows = asyncio.run(_open_loop(base, rate, args.duration, args.window, sample_rss))
    finally:
        cluster.stop(settings)
        asyncio.run(drop_schema(settings))
    records, drift, growth, passed = _report(
        peak.requests_per_s, rate, start_rss, windows, args.window
    )
    save(
        "soak",
        {
            "args": vars(args),
            "peak": asdict(peak),
            "rate": rate,
            "start_rss_mb": start_rss,
            "windows": records,
            "p99_drift": drift,
            "memory_growth": growth,
            "passed": passed,
        },
    )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
