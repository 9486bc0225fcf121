"""One retraining of a model at a time, wherever it runs.

Jobs submitted to one Ray cluster are checked through its Jobs API
(:func:`aetheredge.ops.ray_jobs.submit_retrain_once`). On Kubernetes every scheduled job
has a Ray cluster of its own, so a retraining also holds a PostgreSQL advisory lock on
its model while it runs: the nightly retraining and a drift check's, or two drift
checks', never train the same model at once; the one that finds the lock held skips
that model. When PostgreSQL does not answer, the retraining goes ahead without the lock,
with a warning, as its audit rows do (:mod:`aetheredge.lifecycle.events`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings

log = logging.getLogger(__name__)


def lock_name(settings: Settings, kind: ModelKind) -> str:
    return f"aetheredge.retraining.{settings.database_schema}.{kind}"


@contextmanager
def exclusive_retraining(settings: Settings, kind: ModelKind) -> Iterator[bool]:
    """Hold ``kind``'s retraining lock for the block; yields whether this process got it
    (False: another retraining of ``kind`` holds it)."""
    try:
        conn = psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        log.warning("%s: PostgreSQL does not answer (%s); retraining without its lock", kind, exc)
        yield True
        return
    with conn:  # closing the session releases the lock
        row = conn.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s))", (lock_name(settings, kind),)
        ).fetchone()
        yield bool(row and row[0])
