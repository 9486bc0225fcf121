"""A real MLflow tracking server for tests: PostgreSQL backend, proxied artifacts.

:func:`mlflow_server` starts ``mlflow server --serve-artifacts`` on 127.0.0.1 and a free
port, with its runs in a throwaway PostgreSQL database and its artifacts in
``artifacts`` (the server's disk, standing for the volume production gives it), waits
until it answers, and stops it by pid and drops the database afterwards, also when the
test fails.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from aetheredge.ops.cluster import free_port

START_TIMEOUT_S = 90.0


@contextlib.contextmanager
def _database(database_url: str) -> Iterator[str]:
    """A new, empty database on ``database_url``'s server, as an SQLAlchemy URL."""
    name = f"mlflow_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(database_url)
    try:
        yield urlunsplit(parts._replace(scheme="postgresql+psycopg", path=f"/{name}"))
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def mlflow_server(database_url: str, artifacts: Path, log: Path) -> Iterator[str]:
    """The tracking URI of a running ``mlflow server``; see the module docstring."""
    port = free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    with _database(database_url) as backend, log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(mlflow),
                "server",
                "--host=127.0.0.1",
                f"--port={port}",
                "--workers=1",
                f"--backend-store-uri={backend}",
                "--serve-artifacts",
                f"--artifacts-destination={artifacts}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"mlflow server exited: {log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"mlflow server did not answer in {START_TIMEOUT_S} s")
                time.sleep(0.5)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
