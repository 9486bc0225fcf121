"""Connecting to Ray, and the local single-machine cluster behind ``aetheredge up``.

The local cluster is ``ray start --head --block`` run as a detached child: its pid is
recorded under the state directory and SIGTERM to it drains and stops every Ray process
it started (and nothing else on the machine, unlike ``ray stop``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import ray
from ray._common.utils import reset_ray_address
from ray._private import ray_constants
from ray._private.utils import read_ray_address
from ray._raylet import Config, GcsClient
from ray.dashboard.consts import DASHBOARD_AGENT_ADDR_NODE_ID_PREFIX

from aetheredge.api.limits import late_body
from aetheredge.settings import Settings

PORTS_FROM = 20000  # above Ray's default worker ports (10002-19999) and Redis's 6379
_GIVEN: set[int] = set()  # ports free_port handed out in this process


def free_port() -> int:
    """A TCP port free on every address right now, which no other caller in this
    process was given and which the kernel does not hand out by itself.

    Asking the kernel for port 0 gives a port from its ephemeral range, the range it
    also draws every outgoing connection's port and every other port-0 listener from
    (Ray's own among them). Between the pick and the bind such a port can be taken: in
    one of three test sessions, HAProxy's stats port (bound on 0.0.0.0) was. So the
    port comes from above Ray's worker ports (10002-19999) and outside the ephemeral
    range, and is tried on 0.0.0.0, which conflicts with a listener on any address.
    """
    low, high = ephemeral_ports()
    while True:
        port = random.randrange(PORTS_FROM, 65536)
        if low <= port <= high or port in _GIVEN:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for ports it picks itself (Linux's default without /proc)."""
    with contextlib.suppress(OSError, ValueError):
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    return 32768, 60999


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_running(pid: int) -> bool:
    """Whether ``pid`` runs (reaping it first if it is our exited child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: kill(0) below tells
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def connect(settings: Settings) -> None:
    """Join the Ray cluster this process should use, unless already connected.

    Order: an explicit ``AETHER_RAY_ADDRESS``; the cluster a Ray job runs in
    (``RAY_ADDRESS``); the local cluster of ``aetheredge up``; else a new local one.
    """
    if ray.is_initialized():
        return
    address = settings.ray_address or os.environ.get("RAY_ADDRESS")
    local = LocalCluster.read(settings)
    if address is None and local is not None and local.alive():
        local.activate(settings)
        address = local.gcs_address
    if address is not None:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(
            address="local",
            object_store_memory=settings.ray_object_store_bytes,
            include_dashboard=False,
            log_to_driver=False,
        )


def haproxy_defaults(settings: Settings) -> str:
    """What Serve's HAProxy adds to its ``defaults`` section, as RAY_SERVE_HAPROXY_RETRY_ON.

    A request HAProxy could not deliver, or whose replica died before answering (closed
    with nothing sent back), goes to another replica: scoring and ingest are idempotent.
    HAProxy replays only a request it held whole when it first sent it. By default it
    forwards the headers before the body has arrived, and then drops the retry: a
    replica killed under load cost 1-2 requests in 13 of 17 reproductions (a silent
    close of the client's connection when the replica connection was reused, else a
    502 that Ray's errorfile turns into a 500), and none in 16 once HAProxy waits for
    the body (``option http-buffer-request``; it holds up to its 16 KiB buffer, so a
    larger body, a scoring request of more than about 100 rows, is still not replayed).

    Waiting for the body moves the slow-client deadline from the replica to HAProxy:
    ``timeout http-request`` is ``AETHER_BODY_TIMEOUT_S``, and its 408 carries the
    replica's own JSON reason, under ``detail`` for ``/v1`` and ``error`` for V2.

    Ray has no setting for these lines (HAProxyConfig.custom_defaults is never
    rendered), but renders RAY_SERVE_HAPROXY_RETRY_ON verbatim into ``defaults``, so they
    ride on it; ``tests/unit/ops/test_haproxy.py`` renders Ray's config and runs it.
    """
    reason = late_body(settings.body_timeout_s)
    body = json.dumps({"detail": reason, "error": reason}).replace('"', '\\"')
    return "\n    ".join(
        (
            "conn-failure empty-response junk-response",
            "option http-buffer-request",
            f"timeout http-request {round(settings.body_timeout_s * 1000)}ms",
            f'http-error status 408 content-type application/json string "{body}"',
        )
    )


def serve_env(settings: Settings) -> dict[str, str]:
    """Ray Serve's process-level switches, which Ray reads only when it starts.

    With the HAProxy ingress, its config lives under ``<home>/haproxy`` (so
    :func:`stop_haproxy` can find this cluster's HAProxy by its command line) and its
    metrics and stats ports are free ones, so two local clusters never collide. Its
    sockets stay in Ray's per-cluster default directory: HAProxy caps socket paths at
    97 characters.
    """
    env = {"RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"} if settings.serve_throughput_optimized else {}
    if (push := settings.serve_metrics_push_s) is not None:
        env |= {
            "RAY_SERVE_HANDLE_AUTOSCALING_METRIC_PUSH_INTERVAL_S": str(push),
            "RAY_SERVE_REPLICA_AUTOSCALING_METRIC_PUSH_INTERVAL_S": str(push),
        }
    if settings.serve_ingress == "haproxy":
        base = settings.home / "haproxy"  # Ray creates it
        env |= {
            "RAY_SERVE_ENABLE_HA_PROXY": "1",
            "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(base / "haproxy.cfg"),
            "RAY_SERVE_HAPROXY_METRICS_PORT": str(free_port()),
            "RAY_SERVE_HAPROXY_STATS_PORT": str(free_port()),
            "RAY_SERVE_HAPROXY_RETRY_ON": haproxy_defaults(settings),
        }
    return env


def stop_haproxy(settings: Settings, timeout_s: float = 10.0) -> list[int]:
    """Stop this cluster's HAProxy, which outlives ``ray stop`` and holds the HTTP port."""
    marker = str(settings.home / "haproxy").encode()
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if b"haproxy" in cmdline.split(b"\0")[0] and marker in cmdline:
            pids.append(int(entry.name))
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while any(pid_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


def job_agent_ready(gcs: GcsClient) -> bool:
    """Whether the head node's job agent has registered, which it does once its HTTP
    server listens.

    Ray's dashboard submits a job through this agent and waits only 10 s for it
    (``WAIT_AVAILABLE_AGENT_TIMEOUT``), then refuses: "No available agent to submit job,
    please try again later". The agent starts after the head reports ready, and on a
    busy machine it takes longer than that.
    """
    head = gcs.internal_kv_get(ray_constants.KV_HEAD_NODE_ID_KEY, ray_constants.KV_NAMESPACE_JOB)
    if head is None:
        return False
    key = f"{DASHBOARD_AGENT_ADDR_NODE_ID_PREFIX}{head.decode()}".encode()
    info = gcs.internal_kv_get(key, ray_constants.KV_NAMESPACE_DASHBOARD)
    return info is not None and json.loads(info)[1] > 0  # (ip, http_port, grpc_port)


def wait_for_job_agent(gcs_address: str, timeout_s: float = 120.0) -> None:
    """Wait until a job can be submitted to the cluster at ``gcs_address``."""
    gcs = GcsClient(address=gcs_address)
    deadline = time.monotonic() + timeout_s
    while not job_agent_ready(gcs):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Ray's job agent did not come up within {timeout_s:.0f} s")
        time.sleep(0.5)


RAY_READY = "block forever"  # what `ray start --block` prints once its node runs


def ray_start(
    *,
    gcs_port: int,
    node_ip: str,
    num_cpus: int,
    object_store_bytes: int,
    dashboard: tuple[str, int] | None = None,
    head_ip: str | None = None,
    redis_password: str | None = None,
    metrics_port: int | None = None,
) -> list[str]:
    """``ray start --block`` for a head (with its ``dashboard`` host and port) or, given
    ``head_ip``, a worker joining the head's GCS on ``gcs_port``. ``redis_password`` is
    that of the Redis a head keeps its GCS state in (``RAY_REDIS_ADDRESS``);
    ``metrics_port`` fixes where the node's Prometheus metrics are (random otherwise)."""
    command = [str(Path(sys.executable).parent / "ray"), "start", "--block"]
    if head_ip is None:
        assert dashboard is not None, "a head serves the dashboard"
        command += ["--head", f"--port={gcs_port}", f"--dashboard-host={dashboard[0]}"]
        command.append(f"--dashboard-port={dashboard[1]}")
        if redis_password is not None:
            command.append(f"--redis-password={redis_password}")
    else:
        command.append(f"--address={head_ip}:{gcs_port}")
    if metrics_port is not None:
        command.append(f"--metrics-export-port={metrics_port}")
    return [
        *command,
        f"--node-ip-address={node_ip}",
        f"--num-cpus={num_cpus}",
        f"--object-store-memory={object_store_bytes}",
        "--disable-usage-stats",
    ]


@dataclass
class LocalCluster:
    """State of the local cluster started by ``aetheredge up``."""

    pid: int
    gcs_port: int
    dashboard_port: int
    log_file: str

    @staticmethod
    def auth_env(settings: Settings) -> dict[str, str]:
        """Ray token auth for the local cluster, with a token file kept under home."""
        path = settings.home / "ray_auth_token"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(path)}

    def activate(self, settings: Settings) -> None:
        """Make this process's Ray clients (driver, jobs, Serve SDK) use this cluster."""
        os.environ.update(self.auth_env(settings))
        Config.initialize("")  # Ray caches RAY_AUTH_MODE at import; re-read it

    @property
    def gcs_address(self) -> str:
        return f"127.0.0.1:{self.gcs_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @staticmethod
    def state_file(settings: Settings) -> Path:
        return settings.home / "cluster.json"

    @classmethod
    def read(cls, settings: Settings) -> LocalCluster | None:
        path = cls.state_file(settings)
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def alive(self) -> bool:
        return pid_running(self.pid) and port_open(self.gcs_port)

    @classmethod
    def start(
        cls, settings: Settings, num_cpus: int | None = None, timeout_s: float = 180.0
    ) -> LocalCluster:
        """Start ``ray start --head --block`` detached, on free ports, and wait for it."""
        settings.home.mkdir(parents=True, exist_ok=True)
        gcs_port, dashboard_port = free_port(), free_port()
        log_file = settings.home / "ray-head.log"
        env = os.environ | settings.child_env() | cls.auth_env(settings) | serve_env(settings)
        # Job drivers run `python -m jobs.retrain`: make `python` this interpreter.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        command = ray_start(
            gcs_port=gcs_port,
            node_ip="127.0.0.1",
            num_cpus=num_cpus or os.cpu_count() or 1,
            object_store_bytes=settings.ray_object_store_bytes,
            dashboard=("127.0.0.1", dashboard_port),
        )
        with log_file.open("w") as out:
            proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                stdin=subprocess.DEVNULL,
            )
        cluster = cls(proc.pid, gcs_port, dashboard_port, str(log_file))
        deadline = time.monotonic() + timeout_s
        while not (port_open(dashboard_port) and RAY_READY in log_file.read_text()):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"Ray head did not start; see {log_file}")
            time.sleep(0.5)
        cluster.activate(settings)
        try:
            wait_for_job_agent(cluster.gcs_address, max(deadline - time.monotonic(), 1.0))
        except BaseException as exc:  # Ctrl-C or an error too: leave no head running
            cluster.stop(settings)
            if isinstance(exc, TimeoutError):
                raise RuntimeError(f"{exc}; see {log_file}") from exc
            raise
        cls.state_file(settings).write_text(json.dumps(asdict(cluster)))
        return cluster

    def stop(self, settings: Settings, timeout_s: float = 20.0) -> None:
        """Stop the head's whole process group (SIGTERM, then SIGKILL), its HAProxy too."""
        if pid_running(self.pid):
            os.kill(self.pid, signal.SIGTERM)  # the head stops its raylet and GCS
            deadline = time.monotonic() + timeout_s
            while pid_running(self.pid) and time.monotonic() < deadline:
                time.sleep(0.5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # workers the head left behind
        stop_haproxy(settings)
        self.forget_address()
        self.state_file(settings).unlink(missing_ok=True)

    def forget_address(self) -> None:
        """Remove the address ``ray start`` recorded for this cluster, as ``ray stop``
        does. Left behind, it names a dead GCS that Ray's state API still dials: every
        Ray Train fit on a later local cluster then waits 12 s for its placement-group
        cleaner to give up."""
        if (read_ray_address() or "").endswith(f":{self.gcs_port}"):
            reset_ray_address()
