"""The services a cluster's pods share, run as real servers on the machine.

What production shares, and nothing else:

- PostgreSQL: the machine's own server, reached from the pods through a TCP relay
  (``socat``) on the bridge's address, since it listens on 127.0.0.1 only;
- the two Redis of the manifests, each a ``redis-server`` of its own with the manifests'
  memory policy (:data:`REDIS_POLICIES`; ``tests/dataplane/test_redis_roles.py`` checks
  the two agree): ``redis`` for features, rate limits and the spill stream, and
  ``redis-gcs`` for Ray's GCS fault-tolerance state;
- an MLflow tracking server (``mlflow server --serve-artifacts``) with its runs in a
  PostgreSQL database of its own and its artifacts on its own disk.

Each is a detached process in a session of its own, recorded by pid with the command
that started it, so :meth:`Service.stop` stops exactly it (and what it forked), and
:meth:`Service.start` brings the same server back on the same port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from aetheredge.ops.cluster import pid_running

# maxmemory leaves a quarter of the manifests' 1 GiB container for the AOF rewrite's fork.
REDIS_MAXMEMORY = "768mb"
REDIS_POLICIES = {"redis": "volatile-lru", "redis-gcs": "noeviction"}
START_TIMEOUT_S = 90.0


@dataclass
class Service:
    """One shared server: ``argv`` started it, ``pid`` leads its session."""

    name: str
    host: str
    port: int
    argv: list[str]
    log: str
    pid: int = 0

    @property
    def url(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, ready: Callable[[Service], bool], timeout_s: float = START_TIMEOUT_S) -> None:
        """Start the server and wait until ``ready`` says it answers."""
        with open(self.log, "ab") as out:
            proc = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid = proc.pid
        deadline = time.monotonic() + timeout_s
        while not ready(self):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = Path(self.log).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} did not start: {tail}")
            time.sleep(0.2)

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM the server's session, then SIGKILL what is left of it."""
        if not self.pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while pid_running(self.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.pid = 0


def listening(service: Service) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((service.host, service.port)) == 0


def mlflow_health(service: Service) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://{service.url}/health", timeout=2).status_code == 200
    return False


def redis(name: str, host: str, port: int, folder: Path, password: str) -> Service:
    """``redis-server`` in ``name``'s role (a key of :data:`REDIS_POLICIES`), appending
    to its AOF under ``folder`` and asking for ``password``, as the manifests'
    StatefulSets do."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt install redis-server)")
    folder.mkdir(parents=True, exist_ok=True)
    argv = [binary, "--bind", host, "--port", str(port), "--save", "", "--dir", str(folder)]
    argv += ["--requirepass", password, "--appendonly", "yes", "--appendfsync", "everysec"]
    argv += ["--maxmemory", REDIS_MAXMEMORY, "--maxmemory-policy", REDIS_POLICIES[name]]
    return Service(name, host, port, argv, str(folder / "redis.log"))


def relay(name: str, host: str, port: int, target: str, log: Path) -> Service:
    """A TCP relay from ``host:port`` to ``target`` (``socat``, one fork per connection),
    queueing as many connections as the servers it stands for (Redis's and Linux's
    default backlog, 511, not socat's 5)."""
    binary = shutil.which("socat")
    if binary is None:
        raise RuntimeError("socat is not installed (apt install socat)")
    listen = f"TCP-LISTEN:{port},bind={host},fork,reuseaddr,backlog=511"
    return Service(name, host, port, [binary, listen, f"TCP:{target}"], str(log))


def mlflow(host: str, port: int, backend_uri: str, artifacts: Path, log: Path) -> Service:
    """``mlflow server``: runs in ``backend_uri``, artifacts proxied into ``artifacts``."""
    argv = [str(Path(sys.executable).with_name("mlflow")), "server", f"--host={host}"]
    argv += [f"--port={port}", "--workers=1", f"--backend-store-uri={backend_uri}"]
    argv += ["--serve-artifacts", f"--artifacts-destination={artifacts}"]
    return Service("mlflow", host, port, argv, str(log))


def create_database(database_url: str, prefix: str) -> str:
    """A new, empty database on ``database_url``'s server; its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(database_url: str, name: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(database_url: str, name: str) -> str:
    """``database_url`` for database ``name`` as SQLAlchemy (MLflow's backend) spells it."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg", path=f"/{name}"))
