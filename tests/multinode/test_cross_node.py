"""A model registered by a job on one node is served by replicas on the others.

The nodes share no disk: the job's driver (on the head) and Ray Train's workers (on the
worker nodes) hand the model to MLflow's tracking server, and each replica downloads it
from there. A ``file://`` artifact under the job's ``AETHER_HOME`` would not exist on
the replicas' nodes, and they would fail to start.
"""

from aetheredge.api.client import ServiceClient
from aetheredge.ops.nodes.pod import HOME
from tests.support.nodes import healthy_proxies, registry, running_replicas


def test_a_model_trained_by_a_job_is_served_from_every_node(nodes, served):
    settings, version = nodes.settings, served.summary["version"]
    client = registry(nodes)
    registered = client.get_model_version(settings.model_name("anomaly"), version)
    assert client.get_run(registered.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    assert not any(nodes.pods["head"].path(HOME).rglob("MLmodel"))  # nothing kept on a disk

    replicas = running_replicas(nodes)
    assert len(replicas) == settings.serve_min_replicas == 2
    assert served.driver not in {r["node_id"] for r in replicas}  # a replica needs a CPU
    proxies = healthy_proxies(nodes, {r["node_ip"] for r in replicas} | {nodes.head.address})
    for address in proxies:  # every node's ingress serves the trained version
        service = ServiceClient.from_settings(settings, nodes.ingress(nodes.node_of(address)))
        assert service.served_versions()["anomaly"] == version, address
