"""The vocabulary of an input contract: numeric inputs with units and ranges, categoricals.

Each model kind (:mod:`aetheredge.kinds`) declares its contract in these terms, and the
HTTP request models, the synthetic generators, the Parquet loader and the feature
encoders are all derived from that one declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

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

    @cached_property
    def positions(self) -> dict[str, int]:
        return {value: index for index, value in enumerate(self.values)}

    def codes(self, raw: Sequence[object]) -> np.ndarray:
        """Each raw value's position in ``values``, read through ``of`` when there is
        one; -1 where it is none. A missing value (None, NaN, or pandas' NA, as string
        columns read from PostgreSQL hold) is null. Each distinct value is read once,
        so a request's one row costs a dict lookup and a million training rows a pass."""
        raw = [None if _missing(value) else value for value in raw]
        read = self.of or (lambda value: value)
        found = {value: self.positions.get(read(value), -1) for value in set(raw)}
        return np.fromiter((found[value] for value in raw), dtype=np.intp, count=len(raw))

    @property
    def columns(self) -> tuple[str, ...]:
        """The one-hot columns of this input, ``name=value`` in value order."""
        return tuple(f"{self.name}={v}" for v in self.values)


def _missing(value: object) -> bool:
    if isinstance(value, str):
        return False  # most values: no pandas call
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))
