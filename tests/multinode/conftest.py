"""One multi-node cluster (a head and two workers, each a pod with its own address and
disk) for the tests of this package, removed afterwards down to the last process, link
and namespace, also when a test fails."""

import asyncio
import os
import shutil
import uuid

import pytest

from aetheredge.ops.cluster import pid_running
from aetheredge.ops.nodes.cluster import NodeCluster
from aetheredge.ops.nodes.network import ip
from aetheredge.stores.admin import drop_schema, migrate_schema


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "network and mount namespaces need root"
    for tool in ("ip", "nsenter", "unshare", "socat", "redis-server"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt install iproute2 util-linux socat redis-server)"
    return None


@pytest.fixture(scope="package")
def nodes(tmp_path_factory, database_url):
    if reason := _missing():
        pytest.skip(reason)
    from aetheredge.settings import Settings

    settings = Settings(database_url=database_url, database_schema=f"nodes_{uuid.uuid4().hex[:12]}")
    asyncio.run(migrate_schema(settings))
    replicas = {"AETHER_SERVE_REPLICA_CPUS": "1", "AETHER_SERVE_MIN_REPLICAS": "2"}
    cluster = NodeCluster.start(
        tmp_path_factory.mktemp("nodes"), settings, workers=2, worker_cpus=2, env=replicas
    )
    try:
        yield cluster
    finally:
        asyncio.run(drop_schema(settings))
        pids = [s.pid for s in cluster.services.values()] + [p.pause for p in cluster.pods.values()]
        cluster.stop()
        assert not any(pid_running(pid) for pid in pids)
        assert cluster.network.id not in ip("netns", "list").stdout
        assert ip("link", "show", cluster.network.bridge, check=False).returncode != 0
