"""Drift on real Ray, PostgreSQL and Redis: telemetry shifted through the ingest API raises
an alarm, and exactly one retraining job is submitted and completes."""

import json
import re
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import ray
from ray.job_submission import JobStatus, JobSubmissionClient

from aetheredge.demo.lifecycle import released, training_hosts
from aetheredge.lifecycle import events
from aetheredge.ops import schedule
from aetheredge.ops.ray_jobs import RESULT_MARKER, RETRAIN_KEY, job_result, submit_and_wait
from aetheredge.ops.schedule import Task
from jobs import drift

pytestmark = pytest.mark.integration


def _scrape(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


def _run(capsys: pytest.CaptureFixture, argv: list[str]) -> dict:
    """jobs.drift in this process (already joined to the cluster); its report (its last
    result line: a retraining it ran itself prints its own before)."""
    assert drift.main(argv) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith(RESULT_MARKER)]
    return json.loads(lines[-1].removeprefix(RESULT_MARKER))


def test_shift_through_ingest_alarms_once_and_retrains_once(platform, service, capsys):
    settings, dashboard = platform
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    calm = training_hosts(20_000, now - timedelta(hours=40))  # the reference's own hosts
    shifted = released(training_hosts(20_000, now - timedelta(minutes=5)))
    for frame in (calm, shifted):
        accepted = sum(a["accepted"] for a in service.ingest_frame(frame, 3_000))
        assert accepted == len(frame)
    for body in service.predict("anomaly", shifted.to_dict("records")):  # scored now
        assert body["version"] == "1"
    time.sleep(2 * settings.log_interval_s + 1)  # the prediction log reaches PostgreSQL
    client = JobSubmissionClient(dashboard)
    options = ["--model", "anomaly", "--retrain-rows", "20000", "--n-estimators", "20"]
    options += ["--linger", "0", "--dashboard", dashboard]

    window = ["--since", str(calm.ts.min()), "--until", str(calm.ts.max() + timedelta(seconds=1))]
    stable = _run(capsys, [*options, *window])
    assert not stable["alarm"] and stable["rows"] == len(calm) and stable["retrain_job"] is None
    assert max(stable["psi"].values()) < settings.drift_psi_threshold, stable["psi"]

    # As users run it: a Ray job, which finds the Jobs API by itself.
    recent = ["--since", str(shifted.ts.min())]
    argv = ["python", "-m", "jobs.drift", *options[:-2], *recent]
    _, status, logs = submit_and_wait(settings, dashboard, argv)
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    alarm = job_result(logs)
    assert alarm["alarm"] and {"cpu_util", "latency_p99_ms", "request_rate"} <= set(
        alarm["drifted"]
    )
    # every anomaly row scored this session is in the window; the shifted ones at least
    assert alarm["rows"] == len(shifted) and alarm["scored_rows"] >= len(shifted)
    job = alarm["retrain_job"]
    assert job is not None and alarm["blocked_by"] is None

    again = _run(capsys, [*options, *recent])  # while that retraining is still on its way
    assert again["alarm"] and again["retrain_job"] is None and again["blocked_by"] == job

    # The gauges this process set reach Ray's Prometheus endpoint (exported every ~10 s).
    port = ray._private.worker.global_worker.node.metrics_export_port
    deadline = time.monotonic() + 60
    while "ray_aetheredge_drift_alarm{" not in (text := _scrape(port)):
        assert time.monotonic() < deadline, "drift gauges never reached the metrics endpoint"
        time.sleep(2)
    assert re.search(r'ray_aetheredge_drift_alarm\{[^}]*model="anomaly"[^}]*\} 1\.0', text)
    assert re.search(r'ray_aetheredge_drift_psi\{[^}]*feature="cpu_util"[^}]*model="anomaly"', text)

    deadline = time.monotonic() + 600
    while not (final := client.get_job_status(job)).is_terminal():
        assert time.monotonic() < deadline
        time.sleep(2)
    assert final == JobStatus.SUCCEEDED, client.get_job_logs(job)[-3000:]
    retrains = [j for j in client.list_jobs() if (j.metadata or {}).get(RETRAIN_KEY) == "anomaly"]
    assert [j.submission_id for j in retrains] == [job]
    trail = events.recent(settings, "anomaly", 10)
    assert [e.event for e in trail if e.event in ("drift_alarm", "retrain")] == [
        "drift_alarm",
        "retrain",
        "drift_alarm",
    ]
    assert next(e for e in trail if e.event == "retrain").details["job_id"] == job
    verdict = job_result(client.get_job_logs(job))
    assert verdict["model"] == "anomaly" and verdict["version"] != "1"

    # As the Kubernetes schedule runs it: the drift job retrains by itself, by the
    # retraining policy (PostgreSQL's last AETHER_RETRAIN_DAYS, which hold these hosts).
    here = _run(capsys, [*options[:-2], "--retrain-here", *recent])
    assert here["alarm"] and here["retrain_job"] is None
    assert here["retrained_here"] in ("promoted", "rejected")
    latest = next(e for e in events.recent(settings, "anomaly", 5) if e.event == "retrain")
    assert latest.details == {"trigger": "drift", "drifted": here["drifted"], "in": "drift job"}


def test_scheduled_drift_check_runs_as_a_ray_job(platform):
    settings, dashboard = platform
    client = JobSubmissionClient(dashboard)
    outcome = schedule.submit(Task("drift", "cost", settings.drift_schedule), settings, client)
    job = outcome.removeprefix("submitted ")
    deadline = time.monotonic() + 300
    while not (status := client.get_job_status(job)).is_terminal():
        assert time.monotonic() < deadline
        time.sleep(2)
    logs = client.get_job_logs(job)
    assert status == JobStatus.SUCCEEDED, logs[-3000:]
    report = job_result(logs)
    assert report["model"] == "cost" and "summary" in report
    if report["retrain_job"]:  # cost usage drifted too: let its retraining finish here
        while not client.get_job_status(report["retrain_job"]).is_terminal():
            time.sleep(2)
    assert client.get_job_info(job).metadata == {schedule.DRIFT_KEY: "cost"}
