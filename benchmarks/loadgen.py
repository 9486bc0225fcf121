"""HTTP load: ``wrk`` when installed, else a bounded asyncio client; same result shape.

Every run targets 127.0.0.1 only and lasts ``duration_s``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}


@dataclass
class LoadResult:
    """What one load run measured."""

    tool: str
    concurrency: int
    seconds: float
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _local(url: str) -> None:
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"load may only target 127.0.0.1, not {url}")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * UNITS[unit]


def run_wrk(url: str, body: bytes, concurrency: int, duration_s: float) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        payload = Path(tmp) / "body.json"
        payload.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'local f = io.open("{payload}", "rb")\n'
            "wrk.body = f:read('*a')\n"
            "f:close()\n"
        )
        out = subprocess.run(
            [
                "wrk",
                f"-t{min(2, concurrency)}",
                f"-c{concurrency}",
                f"-d{duration_s:.0f}s",
                "--timeout=10s",
                "--latency",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration_s + 60,
        ).stdout
    requests, seconds = re.search(r"(\d+) requests in ([\d.]+)s", out).groups()  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    errors += sum(int(g) for g in sockets.groups()) if sockets else 0
    return LoadResult(
        tool="wrk",
        concurrency=concurrency,
        seconds=float(seconds),
        requests=int(requests),
        errors=errors,
        requests_per_s=int(requests) / float(seconds),
        p50_ms=_ms(re.search(r"(?m)^\s+50%\s+(\S+)\s*$", out).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"(?m)^\s+99%\s+(\S+)\s*$", out).group(1)),  # type: ignore[union-attr]
    )


async def _run_async(url: str, body: bytes, concurrency: int, duration_s: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        deadline = time.perf_counter() + duration_s

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                    errors += response.status_code >= 300
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    ms = np.array(latencies) * 1e3
    return LoadResult(
        tool="asyncio",
        concurrency=concurrency,
        seconds=seconds,
        requests=len(ms),
        errors=errors,
        requests_per_s=len(ms) / seconds,
        p50_ms=float(np.percentile(ms, 50)),
        p99_ms=float(np.percentile(ms, 99)),
    )


def load(url: str, body: bytes, concurrency: int, duration_s: float) -> LoadResult:
    """POST ``body`` to ``url`` from ``concurrency`` connections for ``duration_s``."""
    _local(url)
    if shutil.which("wrk"):
        return run_wrk(url, body, concurrency, duration_s)
    return asyncio.run(_run_async(url, body, concurrency, duration_s))
