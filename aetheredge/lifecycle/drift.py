"""Drift checks against PostgreSQL: a window of inputs and of the prediction log, binned
on the champion's reference (:mod:`aetheredge.artifacts.reference`).

Inputs come from the tables users write, each kind's own (``telemetry`` for anomaly,
``cost_usage`` for cost); scores come from ``predictions`` for the champion's version.
Anomaly scores count only rows scored with an entity baseline (not anonymous, not
degraded), the same path the reference scores took.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from aetheredge import kinds
from aetheredge.artifacts.reference import DriftReport, compare
from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.policy import Window
from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings
from aetheredge.stores.postgres import connect


@dataclass(frozen=True)
class WindowData:
    """A window's encoded inputs and the champion's logged outputs in it."""

    X: np.ndarray
    scores: np.ndarray
    flags: np.ndarray | None


async def _read(
    settings: Settings, kind: ModelKind, version: str, since: datetime, until: datetime, limit: int
) -> WindowData:
    spec = kinds.get(kind)
    columns, table, ts = spec.stored_columns, spec.storage.table, spec.storage.time_column
    conn = await connect(settings)
    try:
        inputs = await conn.fetch(
            f"SELECT {', '.join(columns)} FROM {table} "
            f"WHERE {ts} >= $1 AND {ts} < $2 ORDER BY {ts} DESC LIMIT $3",
            since,
            until,
            limit,
        )
        scored = await conn.fetch(
            "SELECT value, flag FROM predictions WHERE model = $1 AND version = $2 "
            f"AND ts >= $3 AND ts < $4{spec.storage.scored} ORDER BY ts DESC LIMIT $5",
            kind,
            version,
            since,
            until,
            limit,
        )
    finally:
        await conn.close()
    frame = pd.DataFrame([tuple(r) for r in inputs], columns=list(columns))
    X = spec.encode(frame)
    scores = np.array([r["value"] for r in scored], dtype=np.float64)
    flags = np.array([bool(r["flag"]) for r in scored]) if spec.flag else None
    return WindowData(X, scores, flags)


def check(settings: Settings, kind: ModelKind, window: Window) -> DriftReport:
    """Compare ``window`` with the champion's reference; LookupError when there is none."""
    registry = Registry(settings)
    champion = registry.resolve(kind)
    reference = registry.reference(champion)
    if reference is None:
        raise LookupError(f"{kind} v{champion.version} has no stored reference distribution")
    data = asyncio.run(
        _read(settings, kind, champion.version, window.since, window.until, settings.drift_max_rows)
    )
    return compare(
        reference,
        kind,
        champion.version,
        data.X,
        data.scores,
        data.flags,
        threshold=settings.drift_psi_threshold,
        min_rows=settings.drift_min_rows,
    )
