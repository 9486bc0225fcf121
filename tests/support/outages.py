"""Outages for fault tests: a real PostgreSQL restart, and a TCP path that can be cut.

:class:`TcpProxy` forwards to a real server, which stays up while the path to it goes
away: ``cut()`` closes the listening socket and every forwarded connection, exactly
what a client sees when its server dies; ``restore()`` listens again on the same port.
:class:`ProxyThread` runs one for synchronous tests (which drive a live service).
"""

import asyncio
import contextlib
import shutil
import subprocess
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from aetheredge.ops.cluster import free_port


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


class ProxyThread:
    """A :class:`TcpProxy` to ``url``'s server, on an event loop of its own thread."""

    def __init__(self, url: str, default_port: int) -> None:
        target = urlsplit(url)
        self.proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or default_port)
        self.url = via(url, self.proxy.port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.restore()

    def _run(self, step: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(step, self.loop).result(timeout=30)

    def cut(self) -> None:
        self._run(self.proxy.cut())

    def restore(self) -> None:
        self._run(self.proxy.restore())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
