"""The two model kinds, behind one scikit-learn-style interface."""

from aetheredge.config import ModelKind
from aetheredge.models.anomaly import AnomalyDetector
from aetheredge.models.base import ForestModel
from aetheredge.models.cost import CostModel

MODEL_CLASSES: dict[str, type[ForestModel]] = {"anomaly": AnomalyDetector, "cost": CostModel}


def build_model(kind: ModelKind, **params: object) -> ForestModel:
    """A new, unfitted model of ``kind`` with ``params``."""
    return MODEL_CLASSES[kind](**params)


__all__ = ["MODEL_CLASSES", "AnomalyDetector", "CostModel", "ForestModel", "build_model"]
