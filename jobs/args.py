"""What every job's command line shares: the models it works on, and ISO 8601 times."""

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


def chosen(model: str) -> tuple[ModelKind, ...]:
    """The model kinds ``--model`` names."""
    return kinds.names() if model == "all" else (model,)  # type: ignore[return-value]
