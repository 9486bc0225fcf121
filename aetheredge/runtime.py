"""Model runtimes: what a serving replica does, as plain Python testable without Ray.

A runtime holds one loaded registry version of one model kind, turns validated columns
into predictions, and swaps to another version only once that version is loaded and
has answered a warm-up call, so callers never see a half-loaded model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

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


class ModelRuntime:
    """Serves one model kind from the registry."""

    def __init__(self, kind: ModelKind, registry: Registry | None = None) -> None:
        self.kind = kind
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
        _infer(loaded, warm)
        self._loaded, self._loaded_at = loaded, time.time()
        log.info("%s serving version %s", self.kind, loaded.info.version)
        return loaded.info.version

    def _current(self) -> LoadedModel:
        if self._loaded is None:
            raise RuntimeError(f"no {self.kind} model loaded")
        return self._loaded

    def predict(self, columns: Columns) -> Prediction:
        loaded = self._current()  # one reference for the whole batch
        values = _infer(loaded, encode(self.kind, columns))
        if self.kind == "anomaly":
            threshold = loaded.model.threshold_
            ids = columns.get("entity_id") or [None] * len(values)
            results = [
                AnomalyResult(entity_id=e, score=float(s), is_anomaly=bool(s >= threshold))
                for e, s in zip(ids, values, strict=True)
            ]
            return Prediction(loaded.info.version, results, threshold)
        return Prediction(loaded.info.version, [CostResult(cost_usd=float(v)) for v in values])

    def card(self) -> ModelCard:
        loaded = self._current()
        return ModelCard(
            kind=self.kind,
            name=self.registry.name(self.kind),
            version=loaded.info.version,
            metrics=loaded.info.metrics,
            loaded_at=self._loaded_at,
        )


def _infer(loaded: LoadedModel, X: np.ndarray) -> np.ndarray:
    model = loaded.model
    return model.score_samples(X) if loaded.info.kind == "anomaly" else model.predict(X)
