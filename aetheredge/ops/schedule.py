"""Scheduled retraining and drift checks: what runs when, and the loop that submits them.

Two cron expressions (UTC) drive everything: ``AETHER_RETRAIN_SCHEDULE`` retrains every
model on recent data, ``AETHER_DRIFT_SCHEDULE`` checks every model for drift (which may
retrain it sooner). On Kubernetes the same expressions become RayCronJob/CronJob
schedules; locally ``aetheredge schedule`` runs :func:`run` in the foreground and
submits each task as a Ray job when it falls due. A retrain never starts while one of
the same model is pending or running (:func:`aetheredge.ops.ray_jobs.submit_retrain_once`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from croniter import croniter
from ray.job_submission import JobSubmissionClient

from aetheredge import kinds
from aetheredge.kinds import ModelKind
from aetheredge.ops.entrypoints import DRIFT_JOB, job_argv
from aetheredge.ops.ray_jobs import policy_retrain_command, submit_job, submit_retrain_once
from aetheredge.settings import Settings

DRIFT_KEY = "aetheredge.drift"  # job metadata: the model kind a drift job checks


@dataclass(frozen=True)
class Task:
    """One scheduled job of one model."""

    action: Literal["retrain", "drift"]
    kind: ModelKind
    cron: str

    @property
    def name(self) -> str:
        return f"{self.action} {self.kind}"

    def next_run(self, after: datetime) -> datetime:
        """The first time strictly after ``after`` (aware, UTC) this task falls due."""
        return croniter(self.cron, after).get_next(datetime)


def tasks(settings: Settings) -> list[Task]:
    """Every scheduled task the settings define."""
    crons = (("retrain", settings.retrain_schedule), ("drift", settings.drift_schedule))
    return [Task(action, kind, cron) for action, cron in crons for kind in kinds.names()]  # type: ignore[arg-type]


def submit(task: Task, settings: Settings, client: JobSubmissionClient) -> str:
    """Submit ``task`` as a Ray job; what happened, as one line."""
    if task.action == "retrain":
        argv = policy_retrain_command(settings, task.kind)
        job, blocking = submit_retrain_once(settings, client, task.kind, argv)
        return f"submitted {job}" if job else f"skipped: retraining {blocking} still on its way"
    argv = job_argv(DRIFT_JOB, "--model", task.kind)
    return f"submitted {submit_job(settings, client, argv, metadata={DRIFT_KEY: task.kind})}"


def run(
    settings: Settings,
    launch: Callable[[Task], str],
    report: Callable[[Task, datetime, str], None],
    *,
    runs: int | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Launch every task when it falls due, until ``runs`` launches (None: forever).

    ``launch`` is :func:`submit` bound to a Jobs API client; ``report`` hears each
    launch with its due time and outcome. Returns how many tasks ran.
    """
    schedule = {task: task.next_run(now()) for task in tasks(settings)}
    done = 0
    while runs is None or done < runs:
        task, due = min(schedule.items(), key=lambda item: item[1])
        sleep(max(0.0, (due - now()).total_seconds()))
        report(task, due, launch(task))
        schedule[task] = task.next_run(due)
        done += 1
    return done
