"""The vocabulary of an input contract: numeric inputs with units and ranges, categoricals.

Each model kind (:mod:`aetheredge.kinds`) declares its contract in these terms, and the
HTTP request models, the synthetic generators, the Parquet loader and the feature
encoders are all derived from that one declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Numeric:
    """A numeric input with its unit and closed valid range."""

    name: str
    unit: str
    low: float
    high: float
    description: str


@dataclass(frozen=True)
class Categorical:
    """A categorical input and its allowed values (order fixes the one-hot layout).

    With ``of``, the input is text (or null) that ``of`` reads as one of the values,
    or as None when it cannot: a FOCUS ``RegionId`` read as its area. ``accepts`` names
    the texts a request may send, when not any text (null is always one of them).
    """

    name: str
    values: tuple[str, ...]
    description: str
    of: Callable[[object], str | None] | None = None
    accepts: tuple[str, ...] | None = None

    def read(self, raw: Sequence[object]) -> np.ndarray:
        """``raw`` as values of this input (None where one is not), each distinct raw
        value read once."""
        series = pd.Series(raw, dtype=object)
        if self.of is None:
            return series.where(series.isin(self.values), None).to_numpy()
        series = series.where(series.notna(), None)
        distinct = pd.unique(series)
        read = {value: self.of(value) for value in distinct}
        return series.map(read).to_numpy(dtype=object)

    @property
    def columns(self) -> tuple[str, ...]:
        """The one-hot columns of this input, ``name=value`` in value order."""
        return tuple(f"{self.name}={v}" for v in self.values)
