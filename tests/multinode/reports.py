"""What Ray reports about the cluster, read from the dashboard: Serve's replicas and
proxies, the nodes Ray Train's workers run on."""

import time
from typing import Any

import httpx

from aetheredge.ops.deployment import DEPLOYMENT
from aetheredge.ops.nodes.cluster import NodeCluster

PROXY_START_S = 60.0  # Serve starts a node's proxy beside its first replica


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
