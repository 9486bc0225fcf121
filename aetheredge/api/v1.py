"""Typed HTTP contracts of the ``/v1`` API, generated from the feature schema.

Row models forbid unknown fields and accept only finite JSON numbers inside each
feature's documented range, so every malformed row is refused with a 422 that names
the field and the reason before any model runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from aetheredge.features.schema import ANOMALY_NUMERIC, COST_CATEGORICAL, COST_NUMERIC, Numeric
from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings

# The documented limit; a service reads its own (AETHER_MAX_ROWS_PER_REQUEST) when built.
MAX_ROWS: int = Settings.model_fields["max_rows_per_request"].default
_ROW_CONFIG = ConfigDict(extra="forbid", strict=True)


def _number(spec: Numeric) -> Any:
    field = Field(
        ge=spec.low,
        le=spec.high,
        allow_inf_nan=False,
        description=f"{spec.description} ({spec.unit})",
    )
    return (Annotated[float, field], ...)


AnomalyRow = create_model(
    "AnomalyRow",
    __config__=_ROW_CONFIG,
    __doc__="One entity's infrastructure metrics over one interval.",
    entity_id=(str | None, Field(None, max_length=256, description="Host/service id")),
    **{spec.name: _number(spec) for spec in ANOMALY_NUMERIC},
)
CostRow = create_model(
    "CostRow",
    __config__=_ROW_CONFIG,
    __doc__="One workload's usage over one billing period.",
    **{spec.name: _number(spec) for spec in COST_NUMERIC},
    **{
        c.name: (Literal[c.values], Field(..., description=c.description)) for c in COST_CATEGORICAL
    },
)

TelemetryRow = create_model(
    "TelemetryRow",
    __config__=_ROW_CONFIG,
    __doc__="One entity's metrics over one interval, for ingest; unique per (entity_id, ts).",
    ts=(datetime, Field(..., description="Interval start, ISO 8601 (UTC when no offset)")),
    entity_id=(str, Field(..., min_length=1, max_length=256, description="Host/service id")),
    **{spec.name: _number(spec) for spec in ANOMALY_NUMERIC},
)

ANOMALY_COLUMNS: tuple[str, ...] = tuple(AnomalyRow.model_fields)
COST_COLUMNS: tuple[str, ...] = tuple(CostRow.model_fields)

ROWS: dict[ModelKind, type[BaseModel]] = {"anomaly": AnomalyRow, "cost": CostRow}
COLUMNS: dict[ModelKind, tuple[str, ...]] = {"anomaly": ANOMALY_COLUMNS, "cost": COST_COLUMNS}


@cache
def scoring_request(kind: ModelKind, max_rows: int = MAX_ROWS) -> type[BaseModel]:
    """The ``/v1`` scoring body of ``kind``: 1 to ``max_rows`` rows, nothing else."""
    row = ROWS[kind]
    return create_model(
        row.__name__.replace("Row", "Request"),
        __config__=ConfigDict(extra="forbid"),
        rows=(
            list[row],  # type: ignore[valid-type]
            Field(min_length=1, max_length=max_rows, description=f"1 to {max_rows} rows"),
        ),
    )


AnomalyRequest = scoring_request("anomaly")
CostRequest = scoring_request("cost")


class TelemetryBatch(BaseModel):
    """An ingest body as JSON; CSV and Parquet bodies carry the same columns."""

    model_config = ConfigDict(extra="forbid")
    rows: list[TelemetryRow]  # type: ignore[valid-type]


class AnomalyResult(BaseModel):
    entity_id: str | None
    score: float = Field(description="Isolation score in (0, 1]; higher is more anomalous")
    is_anomaly: bool


class CostResult(BaseModel):
    cost_usd: float


REQUEST_ID = Field(description="This request's rows in the prediction log")


class AnomalyResponse(BaseModel):
    model: Literal["anomaly"] = "anomaly"
    version: str
    request_id: str = REQUEST_ID
    threshold: float
    degraded: bool = Field(
        description="Entity baselines were unavailable (Redis down): scored on the rows alone"
    )
    results: list[AnomalyResult]


class CostResponse(BaseModel):
    model: Literal["cost"] = "cost"
    version: str
    request_id: str = REQUEST_ID
    results: list[CostResult]


class ModelCard(BaseModel):
    """What a replica serves: registry name, version and its hold-out metrics."""

    kind: Literal["anomaly", "cost"]
    name: str
    version: str
    engine: str = Field(description="onnxruntime (compiled) or sklearn (fallback)")
    metrics: dict[str, float]
    loaded_at: float


class ModelsResponse(BaseModel):
    models: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    versions: dict[str, str]


def columns(rows: list[BaseModel], names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Validated rows as column lists, the shape the feature encoders take."""
    return {name: [getattr(row, name) for row in rows] for name in names}


def validation_errors(
    errors: Sequence[Mapping[str, Any]], prefix: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Validation errors as JSON-safe 422 details: where (``loc``), why (``msg``, ``type``).

    The offending value is echoed only when it is a scalar, and non-finite numbers are
    echoed as text: NaN is not JSON, and a refused 10,001-row batch should not be sent
    back whole.
    """
    details = []
    for error in errors:
        detail = {"loc": [*prefix, *error["loc"]], "msg": error["msg"], "type": error["type"]}
        value = error.get("input")
        if isinstance(value, float) and not math.isfinite(value):
            detail["input"] = str(value)
        elif isinstance(value, str | int | float | bool) or value is None:
            detail["input"] = value if not isinstance(value, str) else value[:200]
        details.append(detail)
    return details


class FieldError(BaseModel):
    """One reason a body was refused: where (``loc``) and why (``msg``, ``type``)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str | None = None


class Refusal(BaseModel):
    """Why a request was refused: a sentence, or the fields at fault."""

    detail: str | list[FieldError]


class RowError(BaseModel):
    """One refused row: its 0-based index in the batch, the field at fault, and why."""

    row: int
    field: str
    msg: str


class IngestResponse(BaseModel):
    """What happened to each row of an ingest batch."""

    received: int = Field(description="Rows in the batch")
    accepted: int = Field(description="Rows stored now")
    duplicates: int = Field(description="Valid rows already stored (same entity_id and ts)")
    rejected: int = Field(description="Rows that break the schema, not stored")
    errors: list[RowError] = Field(description="The first 100 refused rows")
    baselines_updated: int = Field(description="Rows that moved an entity's online baseline")
    degraded: bool = Field(description="Redis was unavailable: rows stored, baselines not moved")
