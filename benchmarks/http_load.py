"""HTTP load: AetherEdge on Ray Serve against a FastAPI + scikit-learn server, same model.

One command, one run, one machine. It trains the product's default anomaly model
(Isolation Forest, 200 trees), registers it (compiled), then starts and drives:
  * the baseline: ``benchmarks.baseline_server`` (FastAPI + scikit-learn, one process);
  * AetherEdge: ``aetheredge up``'s local Ray cluster and Serve application, under each
    ingress configuration asked for (``--configs``);
  * the ceiling: a constant-returning Serve deployment on that same cluster and ingress.
Load is single-row requests at each ``--concurrency`` and ``--bulk-rows``-row requests,
from ``wrk`` when installed (else a bounded asyncio client), only to 127.0.0.1, each
run ``--duration`` seconds. Prints a table with ratios, writes JSON and a PNG plot under
benchmarks/results/.

    python -m benchmarks.http_load --duration 10
    python -m benchmarks.http_load --configs haproxy proxy haproxy+throughput --replicas 1 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
from ray.util.state import list_actors

from aetheredge.api import routes
from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.frames import load_frame, split
from aetheredge.kinds.anomaly import ANOMALY_FEATURES
from aetheredge.models import build_model
from aetheredge.ops.cluster import LocalCluster, free_port
from aetheredge.ops.deployment import DEPLOYMENT, deploy
from aetheredge.settings import Settings
from aetheredge.stores.admin import drop_schema, migrate_schema
from benchmarks.loadgen import load
from benchmarks.report import RESULTS, save, show

ROUTE = routes.score_path("anomaly")
CONSTANT_PREFIX = "/constant"


def train_champion(settings: Settings, rows: int) -> str:
    """Train, register and promote the default anomaly model; its version."""
    registry = Registry(settings)
    data = split("anomaly", load_frame("anomaly", rows=rows, seed=0))
    model = build_model("anomaly", random_state=0).fit(data.X_train)
    info = registry.register(
        model,
        params={"rows": rows},
        metrics=model.evaluate(data.X_holdout, data.y_holdout),
        sample=data.X_holdout[:2000],
        tags={"aetheredge.source": "benchmark"},
    )
    registry.promote("anomaly", info.version)
    return info.version


def _bodies(bulk_rows: int) -> dict[int, bytes]:
    frame = load_frame("anomaly", rows=max(bulk_rows, 2016), seed=7)
    rows = frame[["entity_id", *ANOMALY_FEATURES]].head(bulk_rows).to_dict("records")
    return {1: orjson.dumps({"rows": rows[:1]}), bulk_rows: orjson.dumps({"rows": rows})}


def _wait(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s")


System = tuple[str, Callable[[], object] | None]  # URL, and what to apply before loading it


def _drive(systems: dict[str, System], config: str, bodies: dict[int, bytes], args) -> list[dict]:
    """Load every system in turn at each setting, ``--repeats`` times, interleaved so
    that drift in the machine's speed hits all systems alike; keep each system's
    median run (errors summed over all runs). A system's setup (a redeploy with other
    tuning) runs whenever the system before it was another one."""
    runs = [(1, c) for c in args.concurrency] + [(args.bulk_rows, args.bulk_concurrency)]
    records = []
    for rows, concurrency in runs:
        results: dict[str, list] = {name: [] for name in systems}
        applied = None
        for _ in range(args.repeats):
            for name, (url, setup) in systems.items():
                if rows > 1 and name == "constant":
                    continue  # the ceiling is for single rows
                if setup is not None and applied != name:
                    setup()
                    applied = name
                load(url, bodies[rows], concurrency, min(2.0, args.duration))  # warm-up
                results[name].append(load(url, bodies[rows], concurrency, args.duration))
        for name, runs_ in results.items():
            if not runs_:
                continue
            median = sorted(runs_, key=lambda r: r.requests_per_s)[len(runs_) // 2]
            record = {"system": name, "config": config, "rows": rows, **median.as_dict()}
            record |= {
                "rows_per_s": median.requests_per_s * rows,
                "errors": sum(r.errors for r in runs_),
                "runs_requests_per_s": [r.requests_per_s for r in runs_],
            }
            records.append(record)
            print(
                f"{name:10} {config:28} rows={rows:<5} c={concurrency:<3} "
                f"{median.requests_per_s:9.1f} req/s p99 {median.p99_ms:7.1f} ms "
                f"errors {record['errors']}",
                flush=True,
            )
    return records


def _baseline(settings: Settings, version: str, bodies, args) -> list[dict]:
    port = free_port()
    env = os.environ | settings.child_env()
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.baseline_server", str(port), version], env=env
    )
    try:
        _wait(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}{ROUTE}"
        return _drive({"baseline": (url, None)}, "FastAPI+sklearn", bodies, args)
    finally:
        server.terminate()
        server.wait(timeout=30)


def replica_rss_mb(dashboard_url: str, app_name: str) -> dict[int, float]:
    """Resident memory (MiB) of each live replica of the scoring deployment, by pid."""
    actors = list_actors(
        address=dashboard_url,
        filters=[
            ("class_name", "=", f"ServeReplica:{app_name}:{DEPLOYMENT}"),
            ("state", "=", "ALIVE"),
        ],
    )
    rss = {}
    for actor in actors:
        status = Path(f"/proc/{actor.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        rss[actor.pid] = kb / 1024
    return rss


def _serve(base: Settings, config: str, replicas: int, version: str, bodies, args) -> list[dict]:
    ingress, _, extra = config.partition("+")
    settings = base.model_copy(
        update={
            "serve_ingress": ingress,
            "serve_throughput_optimized": extra == "throughput",
            "serve_port": free_port(),
            "serve_min_replicas": replicas,
            "serve_max_replicas": replicas,
        }
    )
    label = f"{config}, {replicas} replica{'s' if replicas > 1 else ''}"
    cluster = LocalCluster.start(settings)
    try:
        constant = {
            "name": "constant",
            "route_prefix": CONSTANT_PREFIX,
            "import_path": "benchmarks.constant_app:app",
            "deployments": [
                {
                    "name": "Constant",
                    "num_replicas": replicas,
                    "logging_config": {"enable_access_log": settings.serve_access_log},
                }
            ],
        }

        def redeploy(tuning: dict[str, Any]) -> None:
            deploy(
                settings.model_copy(update=tuning),
                cluster.dashboard_url,
                {"anomaly": version},
                extra_applications=[constant],
            )

        redeploy({})
        root = f"http://127.0.0.1:{settings.serve_port}"
        _wait(f"{root}{CONSTANT_PREFIX}")
        systems: dict[str, System] = {
            f"aetheredge {json.dumps(tuning)}" if args.tunings else "aetheredge": (
                f"{root}{ROUTE}",
                partial(redeploy, tuning) if args.tunings else None,
            )
            for tuning in [json.loads(t) for t in args.tunings] or [{}]
        }
        systems["constant"] = (f"{root}{CONSTANT_PREFIX}", None)
        records = _drive(systems, label, bodies, args)
        rss = list(replica_rss_mb(cluster.dashboard_url, settings.serve_app_name).values())
        for r in records:
            if r["system"].startswith("aetheredge"):
                r["replica_rss_mb"] = rss
        return records
    finally:
        cluster.stop(settings)


def _table(records: list[dict]) -> None:
    def find(system: str, config: str | None, r: dict) -> dict | None:
        return next(
            (
                b
                for b in records
                if b["system"] == system
                and (config is None or b["config"] == config)
                and (b["rows"], b["concurrency"]) == (r["rows"], r["concurrency"])
            ),
            None,
        )

    rows = []
    for r in records:
        base = find("baseline", None, r)
        ours = r["system"].startswith("aetheredge")
        ceiling = find("constant", r["config"], r) if ours else None
        rows.append(
            [
                r["system"],
                r["config"],
                f"{r['rows']:,}",
                str(r["concurrency"]),
                f"{r['requests_per_s']:,.0f}",
                f"{r['rows_per_s']:,.0f}",
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                str(r["errors"]),
                f"{r['requests_per_s'] / base['requests_per_s']:.1f}x" if base else "",
                f"{r['requests_per_s'] / ceiling['requests_per_s']:.2f}x" if ceiling else "",
                ", ".join(f"{m:.0f}" for m in r.get("replica_rss_mb", [])),
            ]
        )
    show(
        "HTTP load: anomaly scoring (IF, 200 trees)",
        [
            "system",
            "config",
            "rows/req",
            "conc.",
            "req/s",
            "rows/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "vs baseline",
            "vs constant",
            "replica RSS MB",
        ],
        rows,
    )


def _plot(records: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    single = [r for r in records if r["rows"] == 1]
    for key in sorted({(r["system"], r["config"]) for r in single}):
        points = sorted(
            (r for r in single if (r["system"], r["config"]) == key), key=lambda r: r["concurrency"]
        )
        label = f"{key[0]} ({key[1]})"
        left.plot(
            [p["concurrency"] for p in points],
            [p["requests_per_s"] for p in points],
            "o-",
            label=label,
        )
        right.plot(
            [p["concurrency"] for p in points], [p["p99_ms"] for p in points], "o-", label=label
        )
    for axis, ylabel in ((left, "single-row requests/s"), (right, "p99 latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("concurrent connections")
        axis.set_ylabel(ylabel)
        axis.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main() -> None:
    defaults = Settings()
    optimized = "+throughput" if defaults.serve_throughput_optimized else ""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="training rows")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--bulk-rows", type=int, default=1000)
    parser.add_argument("--bulk-concurrency", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per setting")
    parser.add_argument(
        "--tunings",
        nargs="+",
        default=[],
        help="Serve tuning to compare on one cluster, as JSON Settings overrides applied "
        "through user_config, e.g. '{\"batch_max_size\": 16}' '{\"batch_bypass_rows\": 1}'",
    )
    parser.add_argument(
        "--configs",
        nargs="+",
        default=[defaults.serve_ingress + optimized],
        help="ingress configs: haproxy, proxy, optionally +throughput",
    )
    parser.add_argument("--replicas", type=int, nargs="+", default=[defaults.serve_max_replicas])
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="aetheredge-http-"))
    # a schema of its own for the prediction log, dropped at the end
    settings = Settings(home=home, database_schema=f"bench_{uuid.uuid4().hex[:10]}")
    asyncio.run(migrate_schema(settings))
    try:
        version = train_champion(settings, args.rows)
        bodies = _bodies(args.bulk_rows)
        records = _baseline(settings, version, bodies, args)
        for config in args.configs:
            for replicas in args.replicas:
                records += _serve(settings, config, replicas, version, bodies, args)
    finally:
        asyncio.run(drop_schema(settings))
    _table(records)
    out = save("http_load", {"args": vars(args), "records": records})
    _plot(records, RESULTS / f"{out.stem}.png")


if __name__ == "__main__":
    main()
