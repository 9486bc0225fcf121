"""Encoders from column data to the float32 matrices the tree ensembles consume.

They are stateless (category layouts come from :mod:`aetheredge.schema`), so the
training path (pandas frames) and the serving path (validated request rows) encode
identically, with nothing to fit or ship beside the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from aetheredge.config import ModelKind
from aetheredge.schema import ANOMALY_FEATURES, COST_CATEGORICAL, COST_FEATURES, COST_NUMERIC

Columns = Mapping[str, Sequence[Any]]


def _numeric(columns: Columns, names: Sequence[str]) -> np.ndarray:
    return np.column_stack([np.asarray(columns[n], dtype=np.float32) for n in names])


# Heavy-tailed telemetry is compressed with log1p(scale * x): Isolation Forest draws split
# points uniformly between a feature's min and max, so on a raw long-tailed axis almost
# every split lands in the empty tail and ordinary busy hosts look isolated.
LOG_SCALE = {
    "disk_io_mbps": 1.0,
    "net_in_mbps": 1.0,
    "net_out_mbps": 1.0,
    "latency_p99_ms": 1.0,
    "error_rate": 1000.0,
    "request_rate": 1.0,
}
_LOG_COLUMNS = [i for i, name in enumerate(ANOMALY_FEATURES) if name in LOG_SCALE]
_LOG_FACTORS = np.array([LOG_SCALE[ANOMALY_FEATURES[i]] for i in _LOG_COLUMNS], np.float32)


def anomaly_matrix(columns: Columns) -> np.ndarray:
    """Encode telemetry as an ``(n, 8)`` float32 matrix in schema order (see LOG_SCALE)."""
    X = _numeric(columns, ANOMALY_FEATURES)
    X[:, _LOG_COLUMNS] = np.log1p(X[:, _LOG_COLUMNS] * _LOG_FACTORS)
    return X


def cost_matrix(columns: Columns) -> np.ndarray:
    """Encode usage columns: numeric usage followed by one-hot categoricals."""
    numeric = _numeric(columns, [f.name for f in COST_NUMERIC])
    blocks = [numeric]
    for cat in COST_CATEGORICAL:
        codes = pd.Categorical(columns[cat.name], categories=cat.values).codes
        if (codes < 0).any():
            values = np.asarray(columns[cat.name], dtype=object)
            bad = sorted({str(v) for v in values[codes < 0]})
            raise ValueError(f"{cat.name}: unknown value(s) {bad}; allowed {list(cat.values)}")
        blocks.append(np.eye(len(cat.values), dtype=np.float32)[codes])
    return np.hstack(blocks)


ENCODERS = {"anomaly": anomaly_matrix, "cost": cost_matrix}
FEATURE_NAMES: dict[ModelKind, tuple[str, ...]] = {
    "anomaly": ANOMALY_FEATURES,
    "cost": COST_FEATURES,
}


def encode(kind: ModelKind, columns: Columns) -> np.ndarray:
    """Encode ``columns`` for the model of ``kind``."""
    return ENCODERS[kind](columns)
