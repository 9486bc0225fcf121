"""Submitting retraining as Ray jobs and following them to the end.

The core never imports ``jobs/``: it names the entrypoint as a command line, exactly as
a user would with ``ray job submit -- python -m jobs.retrain ...``.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ray.job_submission import JobStatus, JobSubmissionClient

from aetheredge.datasets.policy import RetrainPolicy
from aetheredge.kinds import ModelKind
from aetheredge.ops.entrypoints import RETRAIN_JOB, job_argv
from aetheredge.settings import Settings

RESULT_MARKER = "AETHEREDGE_RESULT"
RETRAIN_KEY = "aetheredge.retrain"  # job metadata: the model kind a job retrains


def job_result(logs: str) -> dict[str, Any]:
    """The summary a retraining job printed after ``RESULT_MARKER``."""
    for line in reversed(logs.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line.removeprefix(RESULT_MARKER))
    raise ValueError("the job printed no result line")


def retrain_command(
    kind: ModelKind,
    *,
    source: str,
    rows: int,
    seed: int = 0,
    workers: int | None = None,
    n_estimators: int | None = None,
    since: str | None = None,
    until: str | None = None,
    run_name: str | None = None,
) -> list[str]:
    """The argv of a retraining job (``since``/``until``: ISO 8601, for ``postgres``).

    A ``run_name`` makes resubmitting the same argv resume the interrupted fit.
    """
    argv = job_argv(
        RETRAIN_JOB,
        "--model",
        kind,
        "--source",
        source,
        "--rows",
        str(rows),
        "--seed",
        str(seed),
    )
    if workers:
        argv += ["--workers", str(workers)]
    if n_estimators:
        argv += ["--n-estimators", str(n_estimators)]
    for flag, value in (("--since", since), ("--until", until), ("--run-name", run_name)):
        if value:
            argv += [flag, value]
    return argv


def policy_retrain_command(
    settings: Settings, kind: ModelKind, read: dict[str, Any] | None = None, **options: int | None
) -> list[str]:
    """The argv of a retrain by the settings' retraining policy, where ``read`` (source,
    rows, since and until, as ISO 8601) does not override it: ``aetheredge train``, the
    schedule and drift all retrain so. The policy is resolved here, so the job reads
    what the submitter's settings say."""
    given = {k: v for k, v in (read or {}).items() if v is not None}
    for bound in ("since", "until"):
        if bound in given:
            given[bound] = datetime.fromisoformat(given[bound])
    what = RetrainPolicy.of(settings).read(**given)
    window = what.window
    return retrain_command(
        kind,
        source=what.source,
        rows=what.rows,
        since=window.since.isoformat() if window else None,
        until=window.until.isoformat() if window and "until" in given else None,
        **options,
    )


def submit_job(
    settings: Settings,
    client: JobSubmissionClient,
    argv: list[str],
    *,
    metadata: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Submit ``argv`` as a Ray job with these settings (plus ``env``); its id."""
    return client.submit_job(
        entrypoint=shlex.join(argv),
        runtime_env={"env_vars": settings.child_env() | (env or {})},
        metadata=metadata,
    )


def submit_and_wait(
    settings: Settings,
    dashboard_url: str,
    argv: list[str],
    on_line: Callable[[str], None] = lambda line: None,
    timeout_s: float = 1800.0,
    env: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, JobStatus, str]:
    """Submit ``argv`` as a Ray job, feed new log lines to ``on_line``, wait for the end.

    ``env`` adds environment variables for the job's processes; ``headers`` go with every
    dashboard request (a cluster's token, when this process has none). Returns the job
    id, its final status and its full log.
    """
    client = JobSubmissionClient(dashboard_url, headers=headers)
    job_id = submit_job(settings, client, argv, metadata=metadata, env=env)
    status, logs = follow_job(client, job_id, on_line, timeout_s)
    return job_id, status, logs


def follow_job(
    client: JobSubmissionClient,
    job_id: str,
    on_line: Callable[[str], None] = lambda line: None,
    timeout_s: float = 1800.0,
) -> tuple[JobStatus, str]:
    """Feed a job's new log lines to ``on_line`` until it ends; its status and full log."""
    seen = 0
    deadline = time.monotonic() + timeout_s
    while True:
        status = client.get_job_status(job_id)
        logs = client.get_job_logs(job_id)
        lines = logs.splitlines()
        for line in lines[seen:]:
            on_line(line)
        seen = len(lines)
        if status.is_terminal():
            return status, logs
        if time.monotonic() > deadline:
            client.stop_job(job_id)
            raise TimeoutError(f"job {job_id} still {status} after {timeout_s:.0f}s; stopped it")
        time.sleep(1.0)


def active_retrain(client: JobSubmissionClient, kind: ModelKind) -> str | None:
    """The id of a pending or running retraining job of ``kind``, if there is one."""
    for job in client.list_jobs():
        if (job.metadata or {}).get(RETRAIN_KEY) == kind and not job.status.is_terminal():
            return job.submission_id
    return None


async def _submit_once(
    settings: Settings, client: JobSubmissionClient, kind: ModelKind, argv: list[str]
) -> tuple[str | None, str | None]:
    from aetheredge.stores.postgres import connect

    conn = await connect(settings)  # the lock serializes check-then-submit across processes
    lock = f"aetheredge.retrain.{settings.database_schema}.{kind}"
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", lock)
        if running := await asyncio.to_thread(active_retrain, client, kind):
            return None, running
        job_id = await asyncio.to_thread(
            submit_job, settings, client, argv, metadata={RETRAIN_KEY: kind}
        )
        return job_id, None
    finally:
        await conn.close()  # releases the session lock


def submit_retrain_once(
    settings: Settings, client: JobSubmissionClient, kind: ModelKind, argv: list[str]
) -> tuple[str | None, str | None]:
    """Submit a retraining job of ``kind`` unless one is pending or running.

    Returns ``(submitted, blocking)``: the new job's id, or the id of the job that
    blocked it. Safe to call from several processes at once (a PostgreSQL advisory
    lock serializes them), and manual retrains (``aetheredge train``) count too.
    """
    return asyncio.run(_submit_once(settings, client, kind, argv))
