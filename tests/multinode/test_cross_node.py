"""A model registered by a job on one node is served by replicas on the others.

Replicas reserve a CPU here, and the head has none (as on KubeRay), so they run on the
worker nodes. The nodes share no disk: the job's driver (on the head) and Ray Train's
workers (on the worker nodes) hand the model to MLflow's tracking server, and each
replica downloads it from there. A ``file://`` artifact under the job's ``AETHER_HOME``
would not exist on the replicas' nodes, and they would fail to start.
"""

import time

import httpx
import mlflow
from ray.job_submission import JobStatus, JobSubmissionClient

from aetheredge.api.client import ServiceClient
from aetheredge.ops.deployment import deploy
from aetheredge.ops.nodes.cluster import SERVE_PORT
from aetheredge.ops.nodes.pod import HOME
from aetheredge.ops.ray_jobs import follow_job, job_result, retrain_command, submit_job

PROXY_START_S = 60.0


def test_a_model_trained_by_a_job_is_served_from_every_node(nodes):
    settings = nodes.settings
    client = JobSubmissionClient(nodes.dashboard_url, headers=nodes.headers)
    argv = retrain_command("anomaly", source="synthetic", rows=5_000, workers=2, n_estimators=20)
    job = submit_job(settings, client, argv)
    status, logs = follow_job(client, job, lambda line: None, 600)
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    summary = job_result(logs)
    assert summary["promoted"], summary
    driver = client.get_job_info(job).driver_node_id

    # Both URIs: without a registry URI the client takes the process's global one, which
    # an earlier test of the session may have pointed at its own store.
    registry = mlflow.MlflowClient(settings.tracking_uri, settings.tracking_uri)
    version = registry.get_model_version(settings.model_name("anomaly"), summary["version"])
    assert registry.get_run(version.run_id).info.artifact_uri.startswith("mlflow-artifacts:")
    assert not any(nodes.pods["head"].path(HOME).rglob("MLmodel"))  # nothing kept on a disk

    served = deploy(
        settings,
        nodes.dashboard_url,
        {"anomaly": summary["version"]},
        timeout_s=300,
        headers=nodes.headers,
        ingress=nodes.ingress("head"),  # Serve runs a proxy on the head and where replicas run
    )
    assert served["anomaly"] == summary["version"]
    deadline = time.monotonic() + PROXY_START_S  # Serve starts proxies beside replicas
    while True:
        details = httpx.get(
            f"{nodes.dashboard_url}/api/serve/applications/", headers=nodes.headers
        ).json()
        scorer = details["applications"][settings.serve_app_name]["deployments"]["Scorer"]
        replicas = [r for r in scorer["replicas"] if r["state"] == "RUNNING"]
        proxies = {p["node_ip"] for p in details["proxies"].values() if p["status"] == "HEALTHY"}
        wanted = {r["node_ip"] for r in replicas} | {nodes.head.address}
        if wanted <= proxies or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(replicas) == settings.serve_min_replicas == 2
    assert driver not in {r["node_id"] for r in replicas}  # a replica needs a CPU: workers'
    assert wanted <= proxies
    for address in proxies:  # every node's ingress serves the trained version
        service = ServiceClient.from_settings(settings, f"http://{address}:{SERVE_PORT}")
        assert service.served_versions()["anomaly"] == summary["version"], address
