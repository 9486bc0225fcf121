"""Typed HTTP contracts of the ``/v1`` API, generated from each kind's contract.

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

from aetheredge import kinds
from aetheredge.features.schema import Categorical, Numeric
from aetheredge.kinds import ModelKind
from aetheredge.kinds.anomaly import ANOMALY_NUMERIC
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


@cache
def row_model(kind: ModelKind) -> type[BaseModel]:
    """One ``/v1`` row of ``kind``: its entity (when it has one), then its inputs."""
    spec = kinds.get(kind)
    entity: dict[str, Any] = {}
    if spec.entity is not None:
        entity[spec.entity] = (
            str | None,
            Field(None, max_length=256, description="Host/service id"),
        )
    return create_model(
        f"{spec.title}Row",
        __config__=_ROW_CONFIG,
        __doc__=spec.row_doc,
        **entity,
        **{n.name: _number(n) for n in spec.numeric},
        **{c.name: _category(c) for c in spec.categorical},
    )


def _category(cat: Categorical) -> Any:
    """One of ``cat``'s values or, for an input ``cat.of`` reads, one of the texts it
    ``accepts`` (any text when it names none) or null; never left out: a row that
    forgets its provider is refused, not priced as another's. The schema says exactly
    what is accepted, so that no request it allows is refused."""
    if cat.of is None:
        return (Literal[cat.values], Field(..., description=cat.description))
    text = Literal[cat.accepts] if cat.accepts else Annotated[str, Field(max_length=256)]
    return (text | None, Field(..., description=cat.description))


def row_columns(kind: ModelKind) -> tuple[str, ...]:
    """The fields of a ``/v1`` row of ``kind``, in order."""
    return tuple(row_model(kind).model_fields)


TelemetryRow = create_model(
    "TelemetryRow",
    __config__=_ROW_CONFIG,
    __doc__="One entity's metrics over one interval, for ingest; unique per (entity_id, ts).",
    ts=(datetime, Field(..., description="Interval start, ISO 8601 (UTC when no offset)")),
    entity_id=(str, Field(..., min_length=1, max_length=256, description="Host/service id")),
    **{spec.name: _number(spec) for spec in ANOMALY_NUMERIC},
)


@cache
def scoring_request(kind: ModelKind, max_rows: int = MAX_ROWS) -> type[BaseModel]:
    """The ``/v1`` scoring body of ``kind``: 1 to ``max_rows`` rows, nothing else."""
    row = row_model(kind)
    return create_model(
        f"{kinds.get(kind).title}Request",
        __config__=ConfigDict(extra="forbid"),
        rows=(
            list[row],  # type: ignore[valid-type]
            Field(min_length=1, max_length=max_rows, description=f"1 to {max_rows} rows"),
        ),
    )


class TelemetryBatch(BaseModel):
    """An ingest body as JSON; CSV and Parquet bodies carry the same columns."""

    model_config = ConfigDict(extra="forbid")
    rows: list[TelemetryRow]  # type: ignore[valid-type]


REQUEST_ID = Field(description="This request's rows in the prediction log")


@cache
def result_model(kind: ModelKind) -> type[BaseModel]:
    """One scored row of ``kind``: its entity (when it has one), then each output."""
    spec = kinds.get(kind)
    fields: dict[str, Any] = {}
    if spec.entity is not None:
        fields[spec.entity] = (str | None, ...)
    for output in spec.outputs:
        kind_of = bool if output.datatype == "BOOL" else float
        fields[output.name] = (kind_of, Field(description=output.description or None))
    return create_model(f"{spec.title}Result", **fields)


@cache
def response_model(kind: ModelKind) -> type[BaseModel]:
    """The ``/v1`` scoring answer of ``kind``."""
    spec = kinds.get(kind)
    fields: dict[str, Any] = {
        "model": (Literal[spec.name], spec.name),
        "version": (str, ...),
        "request_id": (str, REQUEST_ID),
    }
    if spec.flag is not None:
        fields["threshold"] = (float, ...)
    if spec.derived:
        degraded = "Entity baselines were unavailable (Redis down): scored on the rows alone"
        fields["degraded"] = (bool, Field(description=degraded))
    fields["results"] = (list[result_model(kind)], ...)  # type: ignore[misc]
    return create_model(f"{spec.title}Response", **fields)


class ModelCard(BaseModel):
    """What a replica serves: registry name, version and its hold-out metrics."""

    kind: Literal[kinds.names()]  # type: ignore[valid-type]
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
