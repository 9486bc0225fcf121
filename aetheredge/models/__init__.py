"""The estimators of the model kinds, behind one scikit-learn-style interface.

The estimators are imported when first named (PEP 562), not with the package: a Serve
replica imports the alert rule (:mod:`aetheredge.models.flags`) and must not pay for
scikit-learn, which costs it 1.5 s and about 100 MB.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aetheredge import kinds
from aetheredge.kinds import ModelKind

if TYPE_CHECKING:
    from aetheredge.models.anomaly import AnomalyDetector
    from aetheredge.models.base import ForestModel
    from aetheredge.models.cost import CostModel

_WHERE = {
    "AnomalyDetector": "aetheredge.models.anomaly",
    "CostModel": "aetheredge.models.cost",
    "ForestModel": "aetheredge.models.base",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


def model_class(kind: ModelKind) -> type[ForestModel]:
    """The estimator class of ``kind``."""
    return kinds.get(kind).estimator_class()


def build_model(kind: ModelKind, **params: object) -> ForestModel:
    """A new, unfitted model of ``kind`` with ``params``."""
    return model_class(kind)(**params)


__all__ = ["AnomalyDetector", "CostModel", "ForestModel", "build_model", "model_class"]
