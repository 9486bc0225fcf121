"""The multi-node cluster as the tests use it: a retraining job submitted with its token,
and what Ray reports, read from the dashboard (Serve's replicas and proxies, the nodes
Ray Train's workers run on)."""

import time
from typing import Any

import httpx
from ray.job_submission import JobStatus, JobSubmissionClient

from aetheredge.ops.deployment import DEPLOYMENT
from aetheredge.ops.nodes.cluster import NodeCluster
from aetheredge.ops.ray_jobs import follow_job, retrain_command, submit_job

PROXY_START_S = 60.0  # Serve starts a node's proxy beside its first replica


def retrain(
    nodes: NodeCluster, env: dict[str, str] | None = None, **options: Any
) -> tuple[str, JobStatus, str]:
    """Submit an anomaly retraining job (5,000 synthetic rows, 2 Ray Train workers, 20
    trees) with the cluster's token; its id, final status and log."""
    client = JobSubmissionClient(nodes.dashboard_url, headers=nodes.headers)
    argv = retrain_command("anomaly", source="synthetic", rows=5_000, workers=2, **options)
    job = submit_job(nodes.settings, client, argv, env=env)
    status, logs = follow_job(client, job, lambda line: None, 600)
    return job, status, logs


def _details(nodes: NodeCluster) -> dict[str, Any]:
    answer = httpx.get(f"{nodes.dashboard_url}/api/serve/applications/", headers=nodes.headers)
    answer.raise_for_status()
    return answer.json()


def running_replicas(nodes: NodeCluster, count: int = 2, timeout_s: float = 180.0) -> list[dict]:
    """The Scorer's replicas once ``count`` of them, and no others, are RUNNING."""
    deadline = time.monotonic() + timeout_s
    while True:
        app = _details(nodes)["applications"].get(nodes.settings.serve_app_name, {})
        replicas = app.get("deployments", {}).get(DEPLOYMENT, {}).get("replicas", [])
        if len(replicas) == count and all(r["state"] == "RUNNING" for r in replicas):
            return replicas
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {count} RUNNING replicas within {timeout_s:.0f} s: {replicas}")
        time.sleep(1)


def healthy_proxies(nodes: NodeCluster, wanted: set[str]) -> set[str]:
    """The addresses of Serve's healthy proxies, once they include ``wanted``."""
    deadline = time.monotonic() + PROXY_START_S
    while True:
        proxies = _details(nodes).get("proxies", {}).values()
        healthy = {p["node_ip"] for p in proxies if p["status"] == "HEALTHY"}
        if wanted <= healthy:
            return healthy
        if time.monotonic() > deadline:
            raise TimeoutError(f"no healthy proxy on {wanted - healthy}")
        time.sleep(1)


def train_worker_nodes(nodes: NodeCluster) -> set[str]:
    """The names of the nodes where Ray Train's workers are alive."""

    def get(path: str, **params: Any) -> Any:
        url = f"{nodes.dashboard_url}{path}"
        return httpx.get(url, params=params, headers=nodes.headers).json()["data"]

    actors = get("/api/v0/actors", limit=10_000)["result"]["result"]
    known = get("/api/v0/nodes", limit=10_000)["result"]["result"]  # the dead ones too
    address = {n["node_id"]: n["node_ip"] for n in known}
    return {
        nodes.node_of(address[a["node_id"]])
        for a in actors
        if a["class_name"] == "RayTrainWorker" and a["state"] == "ALIVE"
    }
