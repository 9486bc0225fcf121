"""The model lifecycle's audit trail: rows of the ``model_events`` table.

Promotions, rejections, rollbacks, drift alarms and retraining submissions each add a
row with the figures behind them (``details``, JSON). Writers are the retraining
driver, the CLI and the drift job, all synchronous programs, so the functions here
are synchronous too. When PostgreSQL is away, :func:`record` logs a warning and returns
None: the MLflow run still holds the decision, and no retraining fails for want of
its audit row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings
from aetheredge.stores.postgres import UNAVAILABLE, connect

log = logging.getLogger(__name__)
Event = Literal["promotion", "rejection", "rollback", "drift_alarm", "retrain"]


@dataclass(frozen=True)
class ModelEvent:
    """One row of ``model_events``."""

    id: int
    ts: datetime
    model: ModelKind
    event: Event
    version: str | None
    previous_version: str | None
    details: dict[str, Any]


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as null (JSON has no NaN; jsonb refuses it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


async def _record(settings: Settings, row: tuple[Any, ...]) -> int:
    conn = await connect(settings)
    try:
        return await conn.fetchval(
            "INSERT INTO model_events (model, event, version, previous_version, details) "
            "VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id",
            *row,
        )
    finally:
        await conn.close()


def record(
    settings: Settings,
    model: ModelKind,
    event: Event,
    version: str | None,
    previous_version: str | None = None,
    details: dict[str, Any] | None = None,
) -> int | None:
    """Append an event; its id, or None (with a warning) when PostgreSQL is away."""
    row = (model, event, version, previous_version, json.dumps(_finite(details or {})))
    try:
        return asyncio.run(_record(settings, row))
    except UNAVAILABLE as exc:
        log.warning("model_events: %s %s v%s not recorded (%s)", model, event, version, exc)
        return None


async def _recent(settings: Settings, model: ModelKind | None, limit: int) -> list[ModelEvent]:
    conn = await connect(settings)
    try:
        rows = await conn.fetch(
            "SELECT id, ts, model, event, version, previous_version, details FROM model_events "
            "WHERE $1::text IS NULL OR model = $1 ORDER BY id DESC LIMIT $2",
            model,
            limit,
        )
    finally:
        await conn.close()
    return [ModelEvent(**{**dict(r), "details": json.loads(r["details"])}) for r in rows]


def recent(settings: Settings, model: ModelKind | None = None, limit: int = 20) -> list[ModelEvent]:
    """The latest ``limit`` events (of ``model``, or of every model), newest first."""
    return asyncio.run(_recent(settings, model, limit))
