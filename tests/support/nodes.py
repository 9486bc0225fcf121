"""The multi-node cluster as the tests use it: a retraining job submitted with its token,
and what Ray reports, read from the dashboard (Serve's replicas and proxies, the nodes
Ray Train's workers run on)."""

import time
from typing import Any

import httpx
import mlflow
from ray.job_submission import JobStatus

from aetheredge.ops.nodes.cluster import NodeCluster
from aetheredge.ops.ray_jobs import retrain_command, submit_and_wait
from tests.support.serve import details, wait_for_replicas

PROXY_START_S = 60.0  # Serve starts a node's proxy beside its first replica


def retrain_argv(**options: Any) -> list[str]:
    """An anomaly retraining job's argv: 20,000 synthetic rows, 2 Ray Train workers and,
    unless ``options`` say otherwise, 50 trees. Fitted so on two shards of seeds 21 to
    26, the detector cleared the floors and beat the 3-sigma rule six times in six; at
    5,000 rows and 20 trees, four times (F1 0.09 against the rule's 0.29 at worst)."""
    options = {"n_estimators": 50} | options
    return retrain_command("anomaly", source="synthetic", rows=20_000, workers=2, **options)


def retrain(
    nodes: NodeCluster, env: dict[str, str] | None = None, **options: Any
) -> tuple[str, JobStatus, str]:
    """Run a retraining job (:func:`retrain_argv`) with the cluster's token; its id,
    final status and log."""
    return submit_and_wait(
        nodes.settings,
        nodes.dashboard_url,
        retrain_argv(**options),
        timeout_s=600,
        env=env,
        headers=nodes.headers,
    )


def registry(nodes: NodeCluster) -> mlflow.MlflowClient:
    """A client of the cluster's tracking server. Both URIs: without a registry URI the
    client takes the process's global one, which an earlier test of the session may have
    pointed at its own store."""
    uri = nodes.settings.tracking_uri
    return mlflow.MlflowClient(uri, uri)


def running_replicas(nodes: NodeCluster, count: int = 2) -> list[dict]:
    """The Scorer's replicas once ``count`` of them, and no others, are RUNNING."""
    app = nodes.settings.serve_app_name
    return wait_for_replicas(nodes.dashboard_url, app, count, timeout_s=180, headers=nodes.headers)


def healthy_proxies(nodes: NodeCluster, wanted: set[str]) -> set[str]:
    """The addresses of Serve's healthy proxies, once they include ``wanted``."""
    deadline = time.monotonic() + PROXY_START_S
    while True:
        proxies = details(nodes.dashboard_url, nodes.headers).get("proxies", {}).values()
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
