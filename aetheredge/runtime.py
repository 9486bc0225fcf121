"""Model runtimes: what a serving replica does, as plain Python testable without Ray.

One runtime class per model kind behind one interface (``load``, ``predict``,
``card``). A runtime holds one loaded registry version, turns validated columns into
predictions, and swaps to another version only once that version is loaded and has
answered a warm-up call, so callers never see a half-loaded model.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from aetheredge.api import AnomalyResult, CostResult, ModelCard
from aetheredge.config import ModelKind
from aetheredge.features import FEATURE_NAMES, Columns, encode
from aetheredge.registry import LoadedModel, Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """Predictions for a batch, and the version that made them."""

    version: str
    results: list[Any]
    threshold: float | None = None


class ModelRuntime(ABC):
    """Serves one model kind from the registry."""

    kind: ClassVar[ModelKind]

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or Registry()
        self._loaded: LoadedModel | None = None
        self._loaded_at = 0.0

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    def load(self, version: str | None = None) -> str:
        """Load ``version`` (default: the champion), warm it, then make it current."""
        loaded = self.registry.load(self.kind, version)
        warm = np.zeros((1, len(FEATURE_NAMES[self.kind])), dtype=np.float32)
        self._predict(loaded, warm, {})
        self._loaded, self._loaded_at = loaded, time.time()
        log.info("%s serving version %s", self.kind, loaded.info.version)
        return loaded.info.version

    def _current(self) -> LoadedModel:
        if self._loaded is None:
            raise RuntimeError(f"no {self.kind} model loaded")
        return self._loaded

    def predict(self, columns: Columns) -> Prediction:
        loaded = self._current()  # one reference for the whole batch
        return self._predict(loaded, encode(self.kind, columns), columns)

    @abstractmethod
    def _predict(self, loaded: LoadedModel, X: np.ndarray, columns: Columns) -> Prediction:
        """Predictions of ``loaded`` for the encoded rows ``X`` (raw ``columns`` beside)."""

    def card(self) -> ModelCard:
        loaded = self._current()
        return ModelCard(
            kind=self.kind,
            name=self.registry.name(self.kind),
            version=loaded.info.version,
            metrics=loaded.info.metrics,
            loaded_at=self._loaded_at,
        )


class AnomalyRuntime(ModelRuntime):
    """Anomaly scores and flags, echoing each row's ``entity_id``."""

    kind = "anomaly"

    def _predict(self, loaded: LoadedModel, X: np.ndarray, columns: Columns) -> Prediction:
        scores = loaded.model.score_samples(X)
        flags = loaded.model.flag(scores)
        ids = columns.get("entity_id") or [None] * len(scores)
        results = [
            AnomalyResult(entity_id=e, score=float(s), is_anomaly=bool(f))
            for e, s, f in zip(ids, scores, flags, strict=True)
        ]
        return Prediction(loaded.info.version, results, loaded.model.threshold_)


class CostRuntime(ModelRuntime):
    """Cost predictions in USD."""

    kind = "cost"

    def _predict(self, loaded: LoadedModel, X: np.ndarray, columns: Columns) -> Prediction:
        values = loaded.model.predict(X)
        return Prediction(loaded.info.version, [CostResult(cost_usd=float(v)) for v in values])


RUNTIMES: dict[ModelKind, type[ModelRuntime]] = {"anomaly": AnomalyRuntime, "cost": CostRuntime}


def runtime_for(kind: ModelKind, registry: Registry | None = None) -> ModelRuntime:
    """A new, unloaded runtime for ``kind``."""
    return RUNTIMES[kind](registry)
