"""What the jobs' command lines share: the models they work on, ISO 8601 times, and the
name of the training run a retry resumes."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from aetheredge import kinds
from aetheredge.kinds import ModelKind


def when(text: str) -> datetime:
    """An ISO 8601 date or time; UTC when it names no offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def job_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser for ``python -m <module>`` (its ``doc`` as help) taking ``--model``: one
    model kind, or ``all`` of them in turn (as the Kubernetes schedules run it)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", choices=[*kinds.names(), "all"], required=True)
    return parser


def add_run_name(parser: argparse.ArgumentParser) -> None:
    """``--run-name``, for a job that retrains: what a retry resumes by (on KubeRay, the
    RayJob's name, which its retries keep)."""
    parser.add_argument(
        "--run-name",
        default=None,
        help="Ray Train run name (plus '-<model>'): a retry with the same name resumes from "
        "the run's last checkpoint in AETHER_TRAIN_STORAGE, on the data it started on; "
        "default: a new run",
    )


def chosen(model: str) -> tuple[ModelKind, ...]:
    """The model kinds ``--model`` names."""
    return kinds.names() if model == "all" else (model,)  # type: ignore[return-value]
