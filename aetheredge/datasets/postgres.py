"""Training rows from PostgreSQL, read in parallel by Ray Data.

``ray.data.read_sql`` splits a query into read tasks by wrapping it in
``WHERE MOD(ABS(<hash>(<key>)), n) = i``. Its default hash, ``MD5``, returns text on
PostgreSQL, ``ABS`` of text fails, and Ray then silently reads everything in ONE task.
So the shard hash here is PostgreSQL's ``hashtext`` over the entity (or workload) id,
which also keeps each entity's rows in one task. Connections come from psycopg, with
the platform's schema first on the search path.

Anomaly rows are labelled from the ``incidents`` table: a row inside one of its
entity's incident windows is a positive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import pandas as pd

from aetheredge import kinds
from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings

log = logging.getLogger(__name__)
SHARD_HASH = "hashtext"


def connection_factory(settings: Settings) -> Callable[[], object]:
    """A picklable function opening a psycopg connection on the platform's schema."""
    dsn, schema = settings.database_url, settings.database_schema

    def connect() -> object:
        import psycopg

        return psycopg.connect(dsn, options=f"-c search_path={schema},public -c timezone=UTC")

    return connect


def dataset(kind: ModelKind, settings: Settings, since: datetime, until: datetime, tasks: int):
    """The rows of ``kind`` stored in ``[since, until)`` as a Ray Dataset of ``tasks`` reads."""
    import ray.data

    storage = kinds.get(kind).storage
    return ray.data.read_sql(
        storage.query,
        connection_factory(settings),
        sql_params={"since": since, "until": until},
        shard_keys=[storage.shard_key],
        shard_hash_fn=SHARD_HASH,
        override_num_blocks=tasks,
    )


def read_frame(
    kind: ModelKind, settings: Settings, since: datetime, until: datetime, tasks: int
) -> pd.DataFrame:
    """The rows of ``kind`` in ``[since, until)``, read in ``tasks`` parallel tasks."""
    frame = dataset(kind, settings, since, until, tasks).to_pandas()
    if frame.empty:
        return frame
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).dt.tz_localize(None)
    log.info("read %d %s rows from PostgreSQL in %d tasks", len(frame), kind, tasks)
    return frame
