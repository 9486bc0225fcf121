"""The model kinds the platform serves and trains: ``anomaly`` and ``cost``."""

from __future__ import annotations

from typing import Literal

ModelKind = Literal["anomaly", "cost"]
MODEL_KINDS: tuple[ModelKind, ...] = ("anomaly", "cost")
