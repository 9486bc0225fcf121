"""A toy third model kind, whole in this one module: p99 latency from load.

It lives outside ``aetheredge/kinds/`` on purpose, alone in its folder. Appending that to
``aetheredge.kinds.__path__`` (before the kinds are first listed) is the same as adding
the module to the package, and ``tests/unit/kinds/test_plugin.py`` shows that the
platform then trains, verifies, registers, serves (``/v1`` and V2), routes, schedules
and drift-checks it, with no other file changed. Imported as
``aetheredge.kinds.latency``, so the import strings below name this module.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from aetheredge.features.schema import Categorical, Numeric
from aetheredge.kinds.base import Kind, Output, Storage
from aetheredge.models.cost import CostModel

TIERS = ("free", "standard", "premium")
NUMERIC = (
    Numeric("request_rate", "req/s", 0.0, 1_000_000.0, "Requests served per second"),
    Numeric("cpus", "cores", 0.0, 1024.0, "Cores serving them"),
)
TARGET = Numeric("latency_ms", "ms", 0.0, 600_000.0, "Observed p99 latency")


class LatencyModel(CostModel):
    """The cost kind's forest regressor, fitted on latency instead of cost."""

    kind: ClassVar = "latency"


def latency_rows(rows: int, seed: int = 0) -> pd.DataFrame:
    """Seeded rows: latency grows with load per core, tiers get more headroom."""
    rng = np.random.default_rng(seed)
    cpus = rng.integers(1, 65, rows).astype(float)
    rate = rng.uniform(0, 400, rows) * cpus
    tier = rng.integers(0, len(TIERS), rows)
    load = rate / (cpus * (1.0 + 0.5 * tier))
    latency = 20.0 * (1.0 + (load / 300.0) ** 3) * rng.lognormal(0.0, 0.05, rows)
    return pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-11-02") + pd.to_timedelta(np.arange(rows), unit="min"),
            "service_id": [f"svc-{i % 50}" for i in range(rows)],
            "request_rate": rate,
            "cpus": cpus,
            "tier": pd.Categorical.from_codes(tier, categories=TIERS),
            "latency_ms": latency,
        }
    )


KIND = Kind(
    name="latency",
    title="Latency",
    summary="Predicted p99 latency (ms) for load rows",
    row_doc="One service's load over one interval.",
    numeric=NUMERIC,
    categorical=(Categorical("tier", TIERS, "Service tier"),),
    target=TARGET.name,
    target_range=TARGET,
    value=Output("latency_ms", "FP64", "Predicted p99 latency (ms)"),
    gates=(("mae", False), ("mape", False)),
    v1_path="/v1/latency/predict",
    estimator="aetheredge.kinds.latency:LatencyModel",
    generator="aetheredge.kinds.latency:latency_rows",
    storage=Storage(
        table="service_load",
        time_column="ts",
        query="SELECT ts, service_id, request_rate, cpus, tier, latency_ms FROM service_load "
        "WHERE ts >= %(since)s AND ts < %(until)s",
        shard_key="service_id",
    ),
)
