"""The model registry: where state and MLflow live, and when a challenger wins."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator


class RegistrySettings(BaseModel):
    """The model registry (MLflow), promotion and how replicas follow the champion."""

    home: Path = Field(
        default=Path(".aetheredge"),
        description="State directory: MLflow store, Ray Train results, local cluster state.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking/registry URI; default SQLite under home."
    )
    model_prefix: str = Field(
        default="aetheredge", description="Registered model names are '<prefix>-<kind>'."
    )
    champion_alias: str = Field(
        default="champion", description="The alias of the version that serves, per model."
    )
    promotion_margin: float = Field(
        default=0.01,
        ge=0.0,
        description="Relative improvement on the primary metric (anomaly F1, cost MAE) a "
        "challenger needs over the champion to be promoted.",
    )
    promotion_tolerance: float = Field(
        default=0.0,
        ge=0.0,
        description="Relative slack on the other gated metrics (anomaly recall and alert "
        "rate, cost MAPE); 0 means no regression at all.",
    )
    model_poll_s: float = Field(
        default=2.0,
        gt=0.0,
        description="How often a replica checks the champion alias of the models it follows.",
    )

    @field_validator("home")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()
