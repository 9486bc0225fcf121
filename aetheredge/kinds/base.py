"""What a model kind is: one object that owns everything kind-specific.

A :class:`Kind` declares its input contract, how inputs are encoded and derived, its
training label, estimator and generator, its outputs (the ``/v1`` result fields and
the Open Inference Protocol tensors), its promotion gates, its ``/v1`` route and the
table its inputs are stored in. The rest of the platform reads these attributes and
never branches on a kind's name. Pieces that live higher in the layers (the estimator
class, the synthetic generator) are named by import string, resolved on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from aetheredge.features.encoding import Columns, check_tensor, numeric_matrix, one_hot
from aetheredge.features.schema import Categorical, Numeric

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Output:
    """One output per row: its ``/v1`` result field and V2 tensor (name and datatype)."""

    name: str
    datatype: str
    description: str = ""


@dataclass(frozen=True)
class Storage:
    """Where a kind's inputs are stored in PostgreSQL, and how training reads them.

    ``query`` selects a training window (``%(since)s``, ``%(until)s``), its rows' time
    as ``ts``; ``shard_key`` splits it into parallel reads. ``scored`` narrows the
    prediction log to the rows scored the way the reference scores were.
    """

    table: str
    time_column: str
    query: str
    shard_key: str
    scored: str = ""


def resolve(ref: str) -> Any:
    """The object an import string ``"package.module:name"`` names."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Floor:
    """An absolute bound on a hold-out metric that every challenger must clear, first
    versions included: ``metric`` at least ``bound`` when ``higher_is_better``, else at
    most ``bound``; beyond it, not at it, when ``strict``."""

    metric: str
    bound: float
    higher_is_better: bool
    strict: bool = False


@dataclass(frozen=True, eq=False)
class Kind:
    """One model kind. Its ``name`` is the key everywhere: URLs, metrics, tables, MLflow;
    ``title`` prefixes its HTTP schemas (``AnomalyRow``), ``summary`` names its route.

    ``transform`` runs in place on the encoded numeric block (raw units in, model
    units out). ``derived`` names per-row features computed from the entity's own
    history (:mod:`aetheredge.features.baselines`); a kind that has them scores
    ``entity``'s rows against online baselines. ``flag`` is the boolean output raised
    when ``value`` crosses the version's threshold. ``gates`` are the metrics a
    challenger is judged on, primary first, with whether higher is better. ``floors``
    bound a challenger's metrics whatever the champion; ``baseline`` names a naive
    estimator (``fit``, ``evaluate``) fitted on the same training rows, which a
    challenger must beat on each of ``baseline_gates``. ``bases`` names the columns
    the label may be read from (the first by default), by basis name.
    """

    name: str
    title: str
    summary: str
    row_doc: str
    numeric: tuple[Numeric, ...]
    target: str
    value: Output
    gates: tuple[tuple[str, bool], ...]
    v1_path: str
    estimator: str
    generator: str
    storage: Storage
    categorical: tuple[Categorical, ...] = ()
    target_range: Numeric | None = None
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    entity: str | None = None
    derived: tuple[str, ...] = ()
    flag: Output | None = None
    floors: tuple[Floor, ...] = ()
    baseline: str | None = None
    baseline_gates: tuple[tuple[str, bool], ...] = ()
    bases: tuple[tuple[str, str], ...] = ()

    @cached_property
    def numeric_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.numeric)

    @cached_property
    def input_names(self) -> tuple[str, ...]:
        """What callers send, in raw units and this order on the tensor route."""
        one_hots = (column for cat in self.categorical for column in cat.columns)
        return (*self.numeric_names, *one_hots)

    @cached_property
    def feature_names(self) -> tuple[str, ...]:
        """What the model sees: the encoded inputs, then any derived features."""
        return self.input_names + self.derived

    @property
    def stored_columns(self) -> tuple[str, ...]:
        """The input columns as stored and sent in rows: numeric, then categorical."""
        return (*self.numeric_names, *(cat.name for cat in self.categorical))

    @property
    def ranged(self) -> tuple[Numeric, ...]:
        """Every range-checked column of a training row, the target included."""
        return self.numeric + ((self.target_range,) if self.target_range else ())

    @property
    def outputs(self) -> tuple[Output, ...]:
        return (self.value, self.flag) if self.flag else (self.value,)

    def encode(self, columns: Columns) -> np.ndarray:
        """Encode ``columns``: numeric inputs (transformed), then one-hot categoricals."""
        X = numeric_matrix(columns, self.numeric_names)
        if self.transform is not None:
            X = self.transform(X)
        if not self.categorical:
            return X
        return np.hstack([X, *(one_hot(columns, cat) for cat in self.categorical)])

    def model_input(self, X: np.ndarray, Z: np.ndarray | None = None) -> np.ndarray:
        """The model's whole input: encoded inputs ``X``, then derived ``Z`` if any.

        ``Z`` defaults to zeros: rows with no baseline (no entity, or none known) sit
        at their baseline by definition.
        """
        if not self.derived:
            return X
        return np.hstack([X, np.zeros_like(X) if Z is None else Z])

    def model_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """A training frame's whole model input: encoded inputs, plus offline derivations."""
        from aetheredge.features.baselines import derive

        X = self.encode(frame)
        return self.model_input(X, derive(frame, X) if self.derived else None)

    def from_tensor(self, M: np.ndarray) -> np.ndarray:
        """Check an input matrix in raw units (``input_names`` order) and encode it.

        This is the tensor route in (the Open Inference Protocol). Raises
        :class:`ValueError` naming the first offending row and feature.
        """
        check_tensor(M, self.numeric, self.categorical, self.input_names)
        X = M.astype(np.float32)
        if self.transform is not None:
            X[:, : len(self.numeric)] = self.transform(X[:, : len(self.numeric)])
        return X

    def labelled(self, frame: pd.DataFrame, basis: str | None = None) -> pd.DataFrame:
        """``frame`` with its label read from ``basis``'s column (the first basis's by
        default) for a kind with ``bases``; a frame without that column keeps its own
        label. Raises :class:`ValueError` for a basis the kind does not have."""
        if not self.bases:
            return frame
        columns = dict(self.bases)
        if basis is not None and basis not in columns:
            raise ValueError(f"{self.name} has no label basis {basis!r}: {list(columns)}")
        column = columns[basis or self.bases[0][0]]
        return frame.assign(**{self.target: frame[column]}) if column in frame else frame

    def estimator_class(self) -> type:
        """The estimator class (a :class:`aetheredge.models.ForestModel`)."""
        return resolve(self.estimator)

    def baseline_class(self) -> type | None:
        """The naive baseline's class, if the kind has one."""
        return resolve(self.baseline) if self.baseline else None

    def generate(self, rows: int, seed: int = 0) -> pd.DataFrame:
        """``rows`` seeded synthetic training rows, labelled."""
        return resolve(self.generator)(rows, seed=seed)
