"""Encoders from column data to the float32 matrices the tree ensembles consume.

They are stateless (a contract's category layouts fix the one-hot columns), so the
training path (pandas frames) and the serving path (validated request rows) encode
identically, with nothing to fit or ship beside the model. Which inputs a model takes,
and any transform of them, each kind declares (:mod:`aetheredge.kinds`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from aetheredge.features.schema import Categorical, Numeric

Columns = Mapping[str, Sequence[Any]]


def numeric_matrix(columns: Columns, names: Sequence[str]) -> np.ndarray:
    """The named columns as an ``(n, len(names))`` float32 matrix."""
    return np.array([columns[n] for n in names], dtype=np.float32).T


def one_hot(columns: Columns, cat: Categorical) -> np.ndarray:
    """``cat``'s column as a float32 one-hot block; ValueError names unknown values."""
    codes = cat.codes(columns[cat.name])
    if (codes < 0).any():
        values = np.asarray(columns[cat.name], dtype=object)
        bad = sorted({str(v) for v in values[codes < 0]})
        raise ValueError(f"{cat.name}: unknown value(s) {bad}; allowed {list(cat.values)}")
    return np.eye(len(cat.values), dtype=np.float32)[codes]


def log_scaler(
    names: Sequence[str], scale: Mapping[str, float]
) -> Callable[[np.ndarray], np.ndarray]:
    """An in-place ``log1p(scale * x)`` on the columns of ``names`` that ``scale`` lists.

    Isolation Forest draws split points uniformly between a feature's min and max, so
    on a raw long-tailed axis almost every split lands in the empty tail and ordinary
    busy hosts look isolated; compressing the tail fixes that.
    """
    mask = np.array([name in scale for name in names])
    factors = np.array([scale.get(name, 1.0) for name in names], np.float32)

    def apply(X: np.ndarray) -> np.ndarray:
        np.log1p(X * factors, out=X, where=mask)
        return X

    return apply


def check_tensor(
    M: np.ndarray,
    numeric: Sequence[Numeric],
    categorical: Sequence[Categorical],
    names: Sequence[str],
) -> None:
    """Refuse a raw-unit input matrix that breaks the contract, naming the first bad cell.

    Numbers must be finite and in range, each categorical's one-hot block must hold
    exactly one 1. Raises :class:`ValueError`.
    """
    if M.ndim != 2 or M.shape[1] != len(names):
        raise ValueError(f"expected shape [n, {len(names)}], got {list(M.shape)}")
    bad = ~np.isfinite(M)
    for j, spec in enumerate(numeric):
        bad[:, j] |= (M[:, j] < spec.low) | (M[:, j] > spec.high)
    start = len(numeric)
    for cat in categorical:
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
