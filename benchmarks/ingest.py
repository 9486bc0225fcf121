"""Telemetry ingest throughput: binary COPY against executemany, directly and over HTTP.

One command, one run, one machine, into a fresh schema of the configured PostgreSQL
(``AETHER_DATABASE_URL``; dropped at the end). For each ``--sizes`` row count, every
method stores the same new rows into an emptied ``telemetry`` table:

  * ``executemany`` (the baseline): asyncpg ``executemany`` of
    ``INSERT … ON CONFLICT DO NOTHING``, in one transaction;
  * ``COPY``: the product's writer, binary COPY into a staging table, then one
    ``INSERT … SELECT … ON CONFLICT DO NOTHING``
    (:class:`aetheredge.stores.postgres.writer.BatchWriter`);
  * ``service``: the whole in-process ingest path on 50,000-row Parquet bodies: parse,
    validate, COPY, and the Redis baselines update
    (:class:`aetheredge.ingest.service.IngestService`);
  * ``HTTP JSON``: ``POST /v1/telemetry`` on a local Ray Serve stack (HAProxy ingress),
    1,000-row JSON batches from ``--concurrency`` connections;
  * ``HTTP Parquet``: the same with 50,000-row Parquet batches.

Rows are counted back after each method. Prints a table (rows/s, and each method's
speed against executemany), writes JSON under benchmarks/results/.

    python -m benchmarks.ingest --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pandas as pd

from aetheredge.datasets.synthetic import telemetry
from aetheredge.ingest.service import IngestService
from aetheredge.ingest.telemetry import json_body, validate
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.ops.cluster import LocalCluster, free_port
from aetheredge.ops.deployment import deploy
from aetheredge.settings import Settings
from aetheredge.stores.admin import drop_schema, migrate_schema
from aetheredge.stores.postgres import connect
from aetheredge.stores.postgres.partitions import DayPartitions
from aetheredge.stores.postgres.writer import BatchWriter
from benchmarks.report import save, show

PARQUET = "application/vnd.apache.parquet"
INSERT = (
    f"INSERT INTO telemetry ({', '.join(TELEMETRY_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i + 1}' for i in range(len(TELEMETRY_COLUMNS)))}) "
    "ON CONFLICT DO NOTHING"
)


def _frame(rows: int) -> pd.DataFrame:
    return telemetry(rows, seed=11, start="2026-06-01")[list(TELEMETRY_COLUMNS)].head(rows)


def _json_bodies(frame: pd.DataFrame, batch: int) -> list[bytes]:
    return [json_body(frame.iloc[i : i + batch]) for i in range(0, len(frame), batch)]


def _parquet_bodies(frame: pd.DataFrame, batch: int) -> list[bytes]:
    bodies = []
    for i in range(0, len(frame), batch):
        buffer = io.BytesIO()
        frame.iloc[i : i + batch].to_parquet(buffer, index=False)
        bodies.append(buffer.getvalue())
    return bodies


async def _empty(settings: Settings) -> None:
    conn = await connect(settings)
    try:
        await conn.execute("TRUNCATE telemetry")
    finally:
        await conn.close()


async def _count(settings: Settings) -> int:
    conn = await connect(settings)
    try:
        return await conn.fetchval("SELECT count(*) FROM telemetry")
    finally:
        await conn.close()


# Each method stores its rows and returns how many 503s it retried (HTTP only).


async def _executemany(conn: asyncpg.Connection, records: list[tuple], days: set) -> int:
    await DayPartitions("partitioned").ensure(conn, "telemetry", days)
    async with conn.transaction():
        await conn.executemany(INSERT, records)
    return 0


async def _copy(writer: BatchWriter, records: list[tuple], days: set) -> int:
    await writer.write(records, days)
    return 0


async def _service(service: IngestService, bodies: list[bytes]) -> int:
    for body in bodies:
        await service.telemetry(body, PARQUET)
    return 0


async def _http(url: str, bodies: list[bytes], content_type: str, concurrency: int) -> int:
    """POST every body from ``concurrency`` connections; a 503 is retried after its
    ``Retry-After``, as a well-behaved client does. Returns how many were retried."""
    queue = list(reversed(bodies))
    retried = 0
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120.0) as client:

        async def worker() -> None:
            nonlocal retried
            while queue:
                body = queue.pop()
                while True:
                    response = await client.post(
                        url, content=body, headers={"content-type": content_type}
                    )
                    if response.status_code != 503:
                        break
                    retried += 1
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return retried


async def _measure(settings: Settings, sizes: list[int], url: str | None, concurrency: int):
    """Each method on each size, into an emptied table; connections opened beforehand."""
    conn = await connect(settings)
    service = IngestService(settings)
    writer = await service.writer()
    out = []
    try:
        for asked in sizes:
            frame = _frame(asked)
            size = len(frame)  # the fleet shape may round the row count down a little
            batch = validate(frame.copy())
            records, days = batch.records(), batch.days()
            parquet = _parquet_bodies(frame, 50_000)
            methods: dict[str, Callable[[], Awaitable[int]]] = {
                "executemany": lambda r=records, d=days: _executemany(conn, r, d),
                "COPY": lambda r=records, d=days: _copy(writer, r, d),
                "service": lambda b=parquet: _service(service, b),
            }
            if url is not None:
                json_bodies = _json_bodies(frame, 1000)
                methods["HTTP JSON"] = lambda b=json_bodies: _http(
                    url, b, "application/json", concurrency
                )
                methods["HTTP Parquet"] = lambda b=parquet: _http(url, b, PARQUET, concurrency)
            for name, run in methods.items():
                await conn.execute("TRUNCATE telemetry")
                await service.online.forget()
                started = time.perf_counter()
                retried = await run()
                seconds = time.perf_counter() - started
                stored = await conn.fetchval("SELECT count(*) FROM telemetry")
                if stored != size:
                    raise RuntimeError(f"{name} stored {stored} of {size} rows")
                out.append(
                    {
                        "method": name,
                        "rows": size,
                        "seconds": seconds,
                        "rows_per_s": size / seconds,
                        "retried_503": retried,
                    }
                )
                print(
                    f"{name:13} {size:>9,} rows {seconds:8.2f}s {size / seconds:>11,.0f} rows/s"
                    f"  503s retried: {retried}"
                )
    finally:
        await service.close()
        await conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP connections")
    parser.add_argument("--replicas", type=int, default=1, help="Serve replicas")
    parser.add_argument("--no-http", action="store_true", help="Skip the Ray Serve stack")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="aetheredge-ingest-bench-"))
    settings = Settings(
        home=home,
        database_schema=f"bench_{uuid.uuid4().hex[:10]}",
        serve_port=free_port(),
        serve_min_replicas=args.replicas,
        serve_max_replicas=args.replicas,
    )
    asyncio.run(migrate_schema(settings))
    cluster = None
    try:
        url = None
        if not args.no_http:
            cluster = LocalCluster.start(settings)
            deploy(settings, cluster.dashboard_url, {})
            url = f"http://127.0.0.1:{settings.serve_port}/v1/telemetry"
        records_out = asyncio.run(_measure(settings, args.sizes, url, args.concurrency))
    finally:
        if cluster is not None:
            cluster.stop(settings)
        asyncio.run(drop_schema(settings))

    baseline = {r["rows"]: r["rows_per_s"] for r in records_out if r["method"] == "executemany"}
    show(
        "Telemetry ingest into PostgreSQL (rows/s; x = against executemany, same rows, same run)",
        ["method", "rows", "seconds", "rows/s", "x executemany", "503s retried"],
        [
            [
                r["method"],
                f"{r['rows']:,}",
                f"{r['seconds']:.2f}",
                f"{r['rows_per_s']:,.0f}",
                f"{r['rows_per_s'] / baseline[r['rows']]:.1f}x",
                str(r["retried_503"]),
            ]
            for r in records_out
        ],
    )
    save("ingest", {"concurrency": args.concurrency, "records": records_out})


if __name__ == "__main__":
    main()
