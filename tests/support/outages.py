"""Outages for fault tests: a real PostgreSQL restart, and a TCP path that can be cut.

:class:`TcpProxy` forwards to a real server, which stays up while the path to it goes
away: ``cut()`` closes the listening socket and every forwarded connection, exactly
what a client sees when its server dies; ``restore()`` listens again on the same port.
:class:`Relay` is such a path as a process of its own, for tests that drive a live
service under load.
"""

import asyncio
import contextlib
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from aetheredge.ops.cluster import free_port
from aetheredge.ops.nodes import services


def restart_postgres(database_url: str) -> None:
    """Restart this machine's PostgreSQL (fast shutdown); back once it accepts again."""
    cluster = shutil.which("pg_ctlcluster")
    host = urlsplit(database_url).hostname
    if cluster is None or host not in ("127.0.0.1", "localhost"):
        pytest.skip("restarting PostgreSQL needs this machine's pg_ctlcluster")
    version = sorted(Path("/etc/postgresql").iterdir())[-1].name
    subprocess.run([cluster, version, "main", "restart", "-m", "fast"], check=True, timeout=60)
    for _ in range(60):
        ready = subprocess.run(["pg_isready", "-q", "-h", host], check=False, timeout=10)
        if ready.returncode == 0:
            return
        time.sleep(0.5)
    raise TimeoutError("PostgreSQL did not come back within 30 s")


def via(url: str, port: int) -> str:
    """``url`` (credentials and path kept) pointed at 127.0.0.1:``port``."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.accepted = 0  # connections it took, while listening

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


async def redis_behind_proxy(settings, **changes):
    """A started proxy to ``settings``' Redis, and settings that go through it."""
    target = urlsplit(settings.redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.restore()
    url = via(settings.redis_url, proxy.port)
    return proxy, settings.model_copy(update={"redis_url": url, **changes})


class Relay:
    """A TCP path to ``url``'s server through a relay process of its own (``socat``).

    ``cut()`` stops the relay's whole session, its listener and every connection it
    forwards: what a client sees when its server dies. ``restore()`` starts it again on
    the same port. Being a process, not a thread of the test's own, it adds no wait of
    the test's making: a thread relaying every Redis call of a loaded service shares
    the GIL with the load's client threads, and on 2 busy cores it stalled calls past
    the 0.25 s Redis timeout, so that scoring went degraded again after the restore.
    """

    def __init__(self, url: str, default_port: int, log: Path) -> None:
        target = urlsplit(url)
        upstream = f"{target.hostname or '127.0.0.1'}:{target.port or default_port}"
        self.service = services.relay("relay", "127.0.0.1", free_port(), upstream, log)
        self.url = via(url, self.service.port)
        self.restore()

    def cut(self) -> None:
        self.service.stop()

    def restore(self) -> None:
        self.service.start(services.listening)
