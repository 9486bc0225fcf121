"""Fault-tolerant retraining on real Ray: a killed worker resumes from its checkpoint; a
job that dies or is stopped outright leaves the champion and the registry as they were."""

import time
from pathlib import Path

import pytest
from ray.job_submission import JobStatus, JobSubmissionClient

from aetheredge import kinds
from aetheredge.artifacts.registry import Registry
from aetheredge.ops.ray_jobs import job_result, retrain_command, submit_and_wait, submit_job
from train.faults import ENV

pytestmark = pytest.mark.integration
# 20 trees on 2 workers, 5 per round: each worker checkpoints twice.
JOB = retrain_command("cost", source="synthetic", rows=20_000, seed=7, workers=2, n_estimators=20)
ROUNDS = {"AETHER_TRAIN_TREES_PER_ROUND": "5"}


def _registry_state(registry: Registry) -> tuple[dict, list]:
    champions = {k: registry.champion(k).version for k in kinds.names()}
    return champions, [v.version for v in registry.versions("cost")]


def test_a_worker_killed_mid_fit_resumes_from_its_checkpoint(platform, first_versions):
    settings, dashboard = platform
    env = ROUNDS | {ENV: "kill@1:1"}  # rank 1 dies after its first round is checkpointed
    _, status, logs = submit_and_wait(settings, dashboard, JOB, env=env)
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    summary = job_result(logs)
    assert summary["fit"] == {"workers": 2, "rounds": 2, "restored_trees": 5, "restarts": 1}
    assert "survived 1 worker failure(s)" in logs
    model = Registry(settings).load("cost", summary["version"]).model
    assert len(model.forest_.estimators_) == 20  # no tree lost, none grown twice


def test_a_job_that_runs_out_of_restarts_fails_and_changes_nothing(platform, first_versions):
    settings, dashboard = platform
    registry = Registry(settings)
    before = _registry_state(registry)
    env = ROUNDS | {ENV: "kill@0:1", "AETHER_TRAIN_MAX_FAILURES": "0"}
    _, status, logs = submit_and_wait(settings, dashboard, JOB, env=env)
    assert status == JobStatus.FAILED
    assert "retrain failed" in logs
    assert _registry_state(registry) == before


def test_a_retried_job_resumes_the_fit_its_run_name_names(platform, first_versions):
    settings, dashboard = platform
    registry = Registry(settings)
    before = _registry_state(registry)
    job = retrain_command(
        "cost",
        source="synthetic",
        rows=20_000,
        seed=7,
        workers=2,
        n_estimators=20,
        run_name=(run_name := f"retry-{time.time_ns()}"),
    )
    env = ROUNDS | {ENV: "kill@0:1", "AETHER_TRAIN_MAX_FAILURES": "0"}
    _, status, logs = submit_and_wait(settings, dashboard, job, env=env)
    assert status == JobStatus.FAILED, logs[-3000:]  # both ranks checkpointed round 1
    assert _registry_state(registry) == before
    _, status, logs = submit_and_wait(settings, dashboard, job, env=ROUNDS)  # the retry
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    summary = job_result(logs)
    # one start from the failed run's checkpoint, rank 0's first 5 trees not regrown
    assert summary["fit"] == {"workers": 2, "rounds": 2, "restored_trees": 5, "restarts": 1}
    model = Registry(settings).load("cost", summary["version"]).model
    assert len(model.forest_.estimators_) == 20  # no tree lost, none grown twice
    run = Path(settings.train_storage_path) / f"{run_name}-cost"
    assert not run.exists() and not run.parent.joinpath(f"{run.name}.aetheredge.json").exists()


def test_a_job_stopped_mid_fit_changes_nothing(platform, first_versions):
    settings, dashboard = platform
    registry = Registry(settings)
    before = _registry_state(registry)
    client = JobSubmissionClient(dashboard)
    job = submit_job(settings, client, JOB, env=ROUNDS | {ENV: "stall@0:1"})
    deadline = time.monotonic() + 300
    while "Ray Train fit of" not in client.get_job_logs(job):
        assert time.monotonic() < deadline and not client.get_job_status(job).is_terminal()
        time.sleep(1)
    time.sleep(5)  # well inside the fit: rank 0 is stalled in its second round
    assert client.stop_job(job)
    while not (status := client.get_job_status(job)).is_terminal():
        time.sleep(1)
    assert status == JobStatus.STOPPED
    assert _registry_state(registry) == before
