"""Jobs are submitted only once Ray's job agent is up (``aetheredge up`` waits for it)."""

import time

import pytest
import ray
from ray._raylet import GcsClient
from ray.job_submission import JobStatus, JobSubmissionClient

from aetheredge.ops.cluster import job_agent_ready

pytestmark = pytest.mark.integration


def test_once_the_job_agent_is_ready_a_job_runs_through_it(platform):
    _, dashboard = platform
    assert job_agent_ready(GcsClient(address=ray.get_runtime_context().gcs_address))
    client = JobSubmissionClient(dashboard)
    job = client.submit_job(entrypoint="python -c 'print(42)'")
    deadline = time.monotonic() + 60
    while not (status := client.get_job_status(job)).is_terminal():
        assert time.monotonic() < deadline, f"job {job} still {status} after 60 s"
        time.sleep(0.5)
    assert status == JobStatus.SUCCEEDED and "42" in client.get_job_logs(job)
