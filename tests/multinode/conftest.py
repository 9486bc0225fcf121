"""One multi-node cluster (a head and two workers, each a pod with its own address and
disk) for the tests of this package, removed afterwards down to the last process, link
and namespace, also when a test fails. On it, :func:`served` trains a model with a job
and serves it from replicas on the worker nodes."""

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from ray.job_submission import JobStatus

from aetheredge.ops.cluster import pid_running
from aetheredge.ops.deployment import deploy
from aetheredge.ops.nodes.cluster import NodeCluster
from aetheredge.ops.nodes.network import ip
from aetheredge.ops.ray_jobs import job_result
from aetheredge.stores.admin import drop_schema, migrate_schema
from tests.support.nodes import retrain

# Replicas reserve a CPU, and the head has none (as on KubeRay): they run on the workers,
# one on each (so that a node lost leaves the other serving, and its replacement waits
# for the node to come back), beside one Ray Train worker.
REPLICAS = {
    "AETHER_SERVE_REPLICA_CPUS": "1",
    "AETHER_SERVE_MIN_REPLICAS": "2",
    "AETHER_SERVE_MAX_REPLICAS_PER_NODE": "1",
}
FOLLOW = {"anomaly": None}  # replicas serve the champion and follow its alias


@pytest.fixture(scope="package")
def nodes(tmp_path_factory, database_url):
    if reason := NodeCluster.missing():
        pytest.skip(reason)
    from aetheredge.settings import Settings

    settings = Settings(database_url=database_url, database_schema=f"nodes_{uuid.uuid4().hex[:12]}")
    asyncio.run(migrate_schema(settings))
    root = tmp_path_factory.mktemp("home") / "nodes"  # where `aetheredge nodes` looks
    cluster = NodeCluster.start(root, settings, workers=2, worker_cpus=2, env=REPLICAS)
    try:
        yield cluster
    finally:
        asyncio.run(drop_schema(settings))
        pids = [s.pid for s in cluster.services.values()] + [p.pause for p in cluster.pods.values()]
        cluster.stop()
        assert not any(pid_running(pid) for pid in pids)
        assert cluster.network.id not in ip("netns", "list").stdout
        assert ip("link", "show", cluster.network.bridge, check=False).returncode != 0


@dataclass(frozen=True)
class Served:
    """The first champion, trained by a job whose driver ran on node ``driver``."""

    summary: dict[str, Any]
    driver: str


@pytest.fixture(scope="package")
def served(nodes) -> Served:
    job, status, logs = retrain(nodes)
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    summary = job_result(logs)
    assert summary["promoted"], summary
    client = nodes.jobs
    driver = client.get_job_info(job).driver_node_id
    deploy(
        nodes.settings,
        nodes.dashboard_url,
        FOLLOW,
        timeout_s=300,
        headers=nodes.headers,
        ingress=nodes.ingress("head"),  # Serve runs a proxy on the head and where replicas run
    )
    return Served(summary, driver)
