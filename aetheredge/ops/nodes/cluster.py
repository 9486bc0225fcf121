"""A multi-node Ray cluster on one machine whose nodes behave like pods.

One head and ``workers`` worker nodes, each a :class:`~aetheredge.ops.nodes.pod.Pod`
with its own address on a private bridge (:mod:`~aetheredge.ops.nodes.network`) and a
private disk. They talk over TCP only and share what production shares
(:mod:`~aetheredge.ops.nodes.services`): PostgreSQL, the two Redis, an MLflow tracking
server, and one directory, ``<root>/train-storage``, standing for the ReadWriteMany
volume that Ray Train's ``storage_path`` names on Kubernetes.

As on KubeRay, the head has no CPUs for work (``--num-cpus=0``): Ray Train's workers and
the Serve replicas that need CPUs run on the worker nodes, and the head's GCS keeps its
state in its own Redis (``RAY_REDIS_ADDRESS``), so a restarted head recovers the cluster.

Clients outside the pods (the tests, the CLI) reach the dashboard at the head's address
with the cluster's token in an ``Authorization`` header (:attr:`NodeCluster.headers`),
so the calling process's own Ray settings stay untouched.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
from ray.job_submission import JobSubmissionClient

from aetheredge.ops.cluster import RAY_READY, free_port, ray_start, serve_env
from aetheredge.ops.nodes import services
from aetheredge.ops.nodes.network import Network, kill_namespace
from aetheredge.ops.nodes.pod import HOME, Pod
from aetheredge.ops.nodes.services import Service
from aetheredge.settings import Settings

logger = logging.getLogger(__name__)

GCS_PORT = 6380  # inside the pods' own network: free on every one
DASHBOARD_PORT = 8265
SERVE_PORT = 8000
METRICS_PORT = 8080  # as on KubeRay's pods
HEAD = "head"


@dataclass
class NodeCluster:
    """The state of a running multi-node cluster, saved as ``<root>/cluster.json``."""

    root: str
    network: Network
    database_url: str
    database_schema: str
    mlflow_database: str
    services: dict[str, Service] = field(default_factory=dict)
    pods: dict[str, Pod] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    worker_cpus: int = 1
    redis_password: str = field(default_factory=lambda: secrets.token_hex(16))

    # -- addresses -------------------------------------------------------------------

    @property
    def head(self) -> Pod:
        return self.pods[HEAD]

    @property
    def dashboard_url(self) -> str:
        return f"http://{self.head.address}:{DASHBOARD_PORT}"

    def ingress(self, node: str) -> str:
        """The Serve ingress of ``node``: Serve runs one on the head and on every node
        that holds a replica."""
        return f"http://{self.pods[node].address}:{SERVE_PORT}"

    def metrics_url(self, node: str) -> str:
        """Where ``node``'s Ray metrics are (Prometheus text); the head's carry Serve's
        controller, and with it the autoscaler's inputs and decisions."""
        return f"http://{self.pods[node].address}:{METRICS_PORT}/metrics"

    @property
    def token_file(self) -> Path:
        return Path(self.root) / "ray_auth_token"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_file.read_text().strip()}"}

    @property
    def jobs(self) -> JobSubmissionClient:
        """Ray's job client for this cluster, with its token."""
        return JobSubmissionClient(self.dashboard_url, headers=self.headers)

    @property
    def settings(self) -> Settings:
        """The settings the pods run with, for a client outside them."""
        return Settings.from_environ(self.env)

    # -- lifecycle -------------------------------------------------------------------

    @staticmethod
    def missing() -> str | None:
        """Why nodes cannot start on this machine, if they cannot."""
        if os.geteuid() != 0:
            return "network and mount namespaces need root"
        for tool in ("ip", "nsenter", "unshare", "socat", "redis-server"):
            if shutil.which(tool) is None:
                return (
                    f"{tool} is not installed (apt install iproute2 util-linux socat redis-server)"
                )
        return None

    @classmethod
    def start(
        cls,
        root: Path,
        settings: Settings,
        workers: int = 2,
        worker_cpus: int = 1,
        env: Mapping[str, str] | None = None,
    ) -> NodeCluster:
        """Start the network, the shared services, the head and ``workers`` workers.

        ``settings`` name the machine's PostgreSQL (its URL and schema); ``env`` is added
        to every pod's environment (API keys, say). Whatever started is stopped again if
        a later step fails.
        """
        root.mkdir(parents=True, exist_ok=True)
        network = Network.create()
        cluster = cls(
            str(root),
            network,
            settings.database_url,
            settings.database_schema,
            mlflow_database="",
            worker_cpus=worker_cpus,
        )
        try:
            cluster.save()
            cluster._start_services()
            cluster.env = cluster._pod_env(dict(env or {}))
            _private(cluster.token_file, secrets.token_hex(32))
            cluster.start_node(HEAD)
            for index in range(workers):
                cluster.start_node(f"worker-{index + 1}")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _start_services(self) -> None:
        root, gateway = Path(self.root), self.network.gateway
        self.mlflow_database = services.create_database(self.database_url, "mlflow")
        parts = urlsplit(self.database_url)
        postgres = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
        starts = [
            (
                services.relay("postgres", gateway, free_port(), postgres, root / "relay.log"),
                services.listening,
            ),
            (
                services.redis("redis", gateway, free_port(), root / "redis", self.redis_password),
                services.listening,
            ),
            (
                services.redis(
                    "redis-gcs", gateway, free_port(), root / "redis-gcs", self.redis_password
                ),
                services.listening,
            ),
            (
                services.mlflow(
                    gateway,
                    free_port(),
                    services.sqlalchemy_url(self.database_url, self.mlflow_database),
                    root / "mlflow-artifacts",
                    root / "mlflow.log",
                ),
                services.mlflow_health,
            ),
        ]
        for service, ready in starts:
            self.services[service.name] = service
            self.save()
            service.start(ready)
        self.save()

    def _pod_env(self, extra: dict[str, str]) -> dict[str, str]:
        """Every pod's environment: the platform's settings pointing at the shared
        services, Ray's token auth and GCS fault tolerance, Serve's ingress."""
        relay = self.services["postgres"]
        parts = urlsplit(self.database_url)
        netloc = f"{parts.netloc.rpartition('@')[0]}@{relay.url}".lstrip("@")
        env = {
            "AETHER_HOME": HOME,
            "AETHER_DATABASE_URL": urlunsplit(parts._replace(netloc=netloc)),
            "AETHER_DATABASE_SCHEMA": self.database_schema,
            "AETHER_REDIS_URL": f"redis://:{self.redis_password}@{self.services['redis'].url}/0",
            "AETHER_MLFLOW_TRACKING_URI": f"http://{self.services['mlflow'].url}",
            "AETHER_TRAIN_STORAGE": str(self.train_storage),
            "AETHER_SERVE_HOST": "0.0.0.0",
            "AETHER_SERVE_PORT": str(SERVE_PORT),
            "AETHER_SERVE_PROXY_LOCATION": "EveryNode",
            **extra,
        }
        env |= serve_env(Settings.from_environ(env))
        return env | {
            "HOME": f"{HOME}/user",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/sbin:/usr/bin:/sbin:/bin",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": f"{HOME}/ray_auth_token",
            "RAY_REDIS_ADDRESS": self.services["redis-gcs"].url,
            "RAY_external_storage_namespace": self.network.id,
        }

    @property
    def train_storage(self) -> Path:
        return Path(self.root) / "train-storage"

    def keep(self) -> list[Path]:
        """What every pod sees as the machine has it: the image and the shared volume."""
        self.train_storage.mkdir(exist_ok=True)
        return [Path.cwd(), Path(sys.prefix), Path(sys.base_prefix), self.train_storage]

    def start_node(self, name: str, timeout_s: float = 180.0, restarts: int = 2) -> Pod:
        """Start (or restart, on a fresh disk) node ``name`` and wait until Ray runs it.

        When ``ray start`` exits before the node is up, the node starts again on a fresh
        disk, up to ``restarts`` times, as Kubernetes replaces a Ray pod whose container
        failed; each failed attempt's log is kept beside the node's disk. On 2 shared
        cores a head restarted under load has seen its raylet abort: the dashboard
        agent had not written its port within the raylet's fixed 15 s.
        """
        if name not in self.network.hosts:
            self.network.add_host(name)
        deadline = time.monotonic() + timeout_s
        for attempt in range(1, restarts + 2):
            pod, proc, log = self._launch(name)
            if _came_up(name, proc, log, deadline, timeout_s):
                if name == HEAD:
                    self._wait_for_dashboard(deadline)
                    self._wait_for_job_agent(deadline)
                return pod
            kill_namespace(self.network.namespace(name))  # what the failed start left
            failed = shutil.move(log, log.parent.with_name(f"{name}.failed-{attempt}.log"))
            reason = f"node {name}: ray start exited {proc.returncode}; see {failed}"
            logger.warning("%s", reason)
        raise RuntimeError(f"{reason}, and {restarts} restarts failed as well")

    def _launch(self, name: str) -> tuple[Pod, subprocess.Popen[bytes], Path]:
        """Node ``name``'s pod on a fresh disk, running ``ray start``; its log."""
        disk = Path(self.root) / "nodes" / name
        pod = Pod.start(
            name, self.network.namespace(name), self.network.address(name), disk, self.keep()
        )
        self.pods[name] = pod
        self.save()
        shutil.copy(self.token_file, pod.path(f"{HOME}/ray_auth_token"))
        head = name == HEAD
        command = ray_start(
            gcs_port=GCS_PORT,
            node_ip=pod.address,
            num_cpus=0 if head else self.worker_cpus,
            object_store_bytes=self.settings.ray_object_store_bytes,
            dashboard=("0.0.0.0", DASHBOARD_PORT) if head else None,
            head_ip=None if head else self.head.address,
            redis_password=self.redis_password if head else None,
            metrics_port=METRICS_PORT,
        )
        log = disk / "ray.log"
        return pod, pod.run(command, self.env, log, Path.cwd()), log

    def _wait_for_job_agent(self, deadline: float) -> None:
        """Wait, from inside the head (whose environment holds the token the GCS asks
        for), until its job agent takes jobs: :func:`~aetheredge.ops.cluster.wait_for_job_agent`."""
        left = max(deadline - time.monotonic(), 1.0)
        wait = (
            "from aetheredge.ops.cluster import wait_for_job_agent; "
            f"wait_for_job_agent({f'{self.head.address}:{GCS_PORT}'!r}, {left:.0f})"
        )
        self.head.exec([sys.executable, "-c", wait], env=self.env, timeout_s=left + 30)

    def kill(self, name: str) -> int:
        """SIGKILL every process of node ``name``, as when its pod's containers die: no
        drain, no goodbye. Its address stays (answering with resets) until
        :meth:`start_node` brings the node back on a fresh disk. How many processes died."""
        return kill_namespace(self.network.namespace(name))

    def node_of(self, address: str) -> str:
        """The name of the node at ``address``."""
        (name,) = [name for name, pod in self.pods.items() if pod.address == address]
        return name

    def _wait_for_dashboard(self, deadline: float) -> None:
        while True:
            try:
                answer = httpx.get(f"{self.dashboard_url}/api/version", headers=self.headers)
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the head's dashboard did not answer")
            time.sleep(0.5)

    def alive_nodes(self) -> set[str]:
        """Ray's own view: the addresses of the nodes it holds ALIVE (a node that died
        stays listed as DEAD, beside its successor at the same address)."""
        answer = httpx.get(
            f"{self.dashboard_url}/nodes", params={"view": "summary"}, headers=self.headers
        )
        answer.raise_for_status()
        summary = answer.json()["data"]["summary"]
        raylets = (n["raylet"] for n in summary)
        return {r["nodeManagerAddress"] for r in raylets if r["state"] == "ALIVE"}

    def stop(self) -> None:
        """Stop every node and service, delete the network and the MLflow database."""
        self.network.remove()  # SIGKILLs every process of every pod
        for service in reversed(list(self.services.values())):
            service.stop()
        if self.mlflow_database:
            services.drop_database(self.database_url, self.mlflow_database)
        Path(self.root, "cluster.json").unlink(missing_ok=True)

    # -- state -----------------------------------------------------------------------

    def save(self) -> None:
        """Write the state, the Redis password in it, readable by the owner alone."""
        _private(Path(self.root, "cluster.json"), json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, root: Path) -> NodeCluster | None:
        path = root / "cluster.json"
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        state["network"] = Network(**state["network"])
        state["services"] = {k: Service(**v) for k, v in state["services"].items()}
        state["pods"] = {k: Pod(**v) for k, v in state["pods"].items()}
        return cls(**state)


def _came_up(
    name: str, proc: subprocess.Popen[bytes], log: Path, deadline: float, timeout_s: float
) -> bool:
    """Whether ``ray start`` (``proc``, writing ``log``) brought node ``name`` up; False
    when it exited first."""
    while RAY_READY not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            raise RuntimeError(f"node {name} did not start in {timeout_s:.0f} s; see {log}")
        time.sleep(0.5)
    return True


def _private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, created readable and writable by its owner alone."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)
