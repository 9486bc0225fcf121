"""The vocabulary of an input contract: numeric inputs with units and ranges, categoricals.

Each model kind (:mod:`aetheredge.kinds`) declares its contract in these terms, and the
HTTP request models, the synthetic generators, the Parquet loader and the feature
encoders are all derived from that one declaration.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """A categorical input and its allowed values (order fixes the one-hot layout)."""

    name: str
    values: tuple[str, ...]
    description: str

    @property
    def columns(self) -> tuple[str, ...]:
        """The one-hot columns of this input, ``name=value`` in value order."""
        return tuple(f"{self.name}={v}" for v in self.values)
