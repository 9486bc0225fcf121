"""Encoders from column data to the float32 matrices the tree ensembles consume.

They are stateless (category layouts come from :mod:`aetheredge.features.schema`), so the
training path (pandas frames) and the serving path (validated request rows) encode
identically, with nothing to fit or ship beside the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from aetheredge.features.schema import (
    ANOMALY_DERIVED,
    ANOMALY_FEATURES,
    CATEGORICAL,
    COST_CATEGORICAL,
    COST_FEATURES,
    COST_NUMERIC,
    NUMERIC,
)
from aetheredge.kinds import ModelKind

Columns = Mapping[str, Sequence[Any]]


def _numeric(columns: Columns, names: Sequence[str]) -> np.ndarray:
    return np.array([columns[n] for n in names], dtype=np.float32).T


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
_LOG_MASK = np.array([name in LOG_SCALE for name in ANOMALY_FEATURES])
_LOG_FACTORS = np.array([LOG_SCALE.get(name, 1.0) for name in ANOMALY_FEATURES], np.float32)


def _log_scale(X: np.ndarray) -> np.ndarray:
    np.log1p(X * _LOG_FACTORS, out=X, where=_LOG_MASK)
    return X


def anomaly_matrix(columns: Columns) -> np.ndarray:
    """Encode telemetry as an ``(n, 8)`` float32 matrix in schema order (see LOG_SCALE)."""
    return _log_scale(_numeric(columns, ANOMALY_FEATURES))


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
# What callers send (raw units, this order on the tensor route) ...
INPUT_NAMES: dict[ModelKind, tuple[str, ...]] = {
    "anomaly": ANOMALY_FEATURES,
    "cost": COST_FEATURES,
}
# ... and what the model sees: the encoded inputs, then any derived features.
FEATURE_NAMES: dict[ModelKind, tuple[str, ...]] = {
    "anomaly": ANOMALY_FEATURES + ANOMALY_DERIVED,
    "cost": COST_FEATURES,
}


def encode(kind: ModelKind, columns: Columns) -> np.ndarray:
    """Encode ``columns`` (the ``INPUT_NAMES[kind]`` inputs) for the model of ``kind``."""
    return ENCODERS[kind](columns)


def model_input(kind: ModelKind, X: np.ndarray, Z: np.ndarray | None = None) -> np.ndarray:
    """The model's whole input: encoded inputs ``X``, then, for anomaly, derived ``Z``.

    ``Z`` defaults to zeros: rows with no baseline (no ``entity_id``, or none known) sit
    at their baseline by definition.
    """
    if len(FEATURE_NAMES[kind]) == len(INPUT_NAMES[kind]):
        return X  # a kind without derived features
    return np.hstack([X, np.zeros_like(X) if Z is None else Z])


def from_tensor(kind: ModelKind, M: np.ndarray) -> np.ndarray:
    """Check an input matrix in raw units (``INPUT_NAMES[kind]`` order) and encode it.

    This is the tensor route in (the Open Inference Protocol): numbers must be finite
    and in range, each categorical's one-hot block must hold exactly one 1. Raises
    :class:`ValueError` naming the first offending row and feature.
    """
    names = INPUT_NAMES[kind]
    if M.ndim != 2 or M.shape[1] != len(names):
        raise ValueError(f"expected shape [n, {len(names)}], got {list(M.shape)}")
    bad = ~np.isfinite(M)
    for j, spec in enumerate(NUMERIC[kind]):
        bad[:, j] |= (M[:, j] < spec.low) | (M[:, j] > spec.high)
    start = len(NUMERIC[kind])
    for cat in CATEGORICAL[kind]:
        block = M[:, start : start + len(cat.values)]
        invalid = ~np.isin(block, (0.0, 1.0)) | (block.sum(axis=1, keepdims=True) != 1.0)
        bad[:, start : start + len(cat.values)] |= invalid
        start += len(cat.values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"row {row}, feature {names[col]}: {M[row, col]!r} is not finite, in range, "
            "or a valid one-hot value"
        )
    X = M.astype(np.float32)
    return _log_scale(X) if kind == "anomaly" else X
