"""Telemetry batches for ingest: parsed from JSON, CSV or Parquet, checked row by row.

A batch is checked as whole columns (NumPy), not row objects, so a million-row file
validates in well under a second. A row that breaks the schema is refused alone and
named (its index, the first offending field, why); the rest go in. A body that cannot
be read at all, or whose columns do not match the schema, is refused as a whole.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aetheredge.kinds.anomaly import ANOMALY_NUMERIC, TELEMETRY_COLUMNS

MAX_ENTITY_CHARS = 256
EARLIEST = np.datetime64("2000-01-01", "us")
FUTURE_SLACK = np.timedelta64(1, "D")
MAX_LISTED = 100


class FormatError(ValueError):
    """A body that cannot be read as a batch of telemetry rows at all."""


@dataclass(frozen=True)
class Rejection:
    """A refused row: its index in the batch, the first field at fault, and why."""

    row: int
    field: str
    msg: str


@dataclass
class Batch:
    """Valid rows as columns (``TELEMETRY_COLUMNS``), and what was refused."""

    columns: dict[str, np.ndarray]
    received: int
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.columns["ts"])

    def records(self) -> list[tuple]:
        """Rows as tuples in ``TELEMETRY_COLUMNS`` order, ready for COPY."""
        ts = pd.DatetimeIndex(self.columns["ts"]).tz_localize("UTC").to_pydatetime()
        rest = [self.columns[name].tolist() for name in TELEMETRY_COLUMNS[1:]]
        return list(zip(ts, *rest, strict=True))

    def days(self) -> set[date]:
        """The UTC days the rows fall on."""
        days = np.unique(self.columns["ts"].astype("datetime64[D]"))
        return {d.item() for d in days}


Columns = dict[str, Any]  # column name -> list or NumPy array, all of one length


def _json(body: bytes) -> Columns:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"rows"} or not isinstance(doc["rows"], list):
        raise FormatError('expected {"rows": [...]}, a list of row objects, and nothing else')
    rows = doc["rows"]
    if not all(type(row) is dict for row in rows):
        index = next(i for i, row in enumerate(rows) if type(row) is not dict)
        raise FormatError(f"row {index} is not a JSON object")
    names = set().union(*rows) if rows else set(TELEMETRY_COLUMNS)
    _check_names(names)
    return {name: [row.get(name) for row in rows] for name in TELEMETRY_COLUMNS}


def _frame_columns(frame: pd.DataFrame) -> Columns:
    _check_names(set(frame.columns))
    columns: Columns = {}
    for name in TELEMETRY_COLUMNS:
        column = frame[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        columns[name] = column.to_numpy()
    return columns


def _csv(body: bytes) -> Columns:
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype={"entity_id": str}, engine="c")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FormatError(f"body is not readable CSV: {exc}") from None
    return _frame_columns(frame)


def _parquet(body: bytes) -> Columns:
    try:
        frame = pq.read_table(pa.BufferReader(body)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FormatError(f"body is not readable Parquet: {exc}") from None
    return _frame_columns(frame)


def _check_names(names: set[str]) -> None:
    unknown = sorted(names - set(TELEMETRY_COLUMNS))
    missing = [c for c in TELEMETRY_COLUMNS if c not in names]
    if unknown or missing:
        raise FormatError(
            f"columns must be {list(TELEMETRY_COLUMNS)}; unknown {unknown}, missing {missing}"
        )


# Content type -> reader, and whether numbers must already be numbers (JSON) rather
# than text to convert (CSV).
READERS: dict[str, tuple[Callable[[bytes], Columns], bool]] = {
    "application/json": (_json, True),
    "text/csv": (_csv, False),
    "application/vnd.apache.parquet": (_parquet, True),
    "application/x-parquet": (_parquet, True),
}


def media_type(content_type: str | None) -> str:
    """``content_type`` without parameters; JSON when absent."""
    return (content_type or "application/json").split(";")[0].strip().lower()


Check = tuple[str, np.ndarray, str]
NUMBER_TYPES = {float, int}


def _is(values: Any, kind: type) -> np.ndarray:
    return np.fromiter((type(v) is kind for v in values), dtype=bool, count=len(values))


def _timestamps(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """UTC ``datetime64[us]`` (NaT where unreadable), and which values were not text."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values.astype("datetime64[us]"), np.zeros(len(values), dtype=bool)
    text = _is(values, str)
    if text.all() and all(v.endswith("Z") for v in values):
        try:  # the common case, "2026-01-05T10:00:00Z": NumPy parses it directly
            return np.array([v[:-1] for v in values], dtype="datetime64[us]"), ~text
        except ValueError:
            pass
    strings = pd.Series(values, dtype=object).where(text)
    parsed = pd.to_datetime(strings, utc=True, errors="coerce", format="ISO8601")
    return parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"), ~text


def _numbers(values: Any, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """float64 values (NaN where missing), and which values were of the wrong type."""
    n = len(values)
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        return values.astype(np.float64), np.zeros(n, dtype=bool)
    if strict:
        types = set(map(type, values))
        if types <= NUMBER_TYPES | {type(None)}:
            return np.array(values, dtype=np.float64), np.zeros(n, dtype=bool)
        wrong = np.fromiter(
            (v is not None and type(v) not in NUMBER_TYPES for v in values), dtype=bool, count=n
        )
        kept = [None if w else v for v, w in zip(values, wrong, strict=True)]
        return np.array(kept, dtype=np.float64), wrong
    raw = pd.Series(values, dtype=object)
    converted = pd.to_numeric(raw, errors="coerce")
    return converted.to_numpy(dtype=np.float64), (raw.notna() & converted.isna()).to_numpy()


def _checks(columns: Columns, strict: bool, now: np.datetime64) -> list[Check]:
    """(field, bad-row mask, reason) for every check, in the order they are reported.

    Replaces each column in ``columns`` with its parsed NumPy form.
    """
    ts, not_text = _timestamps(columns["ts"])
    checks = [
        ("ts", not_text | np.isnat(ts), "expected an ISO 8601 timestamp"),
        ("ts", ts < EARLIEST, "before 2000-01-01"),
        ("ts", ts > now + FUTURE_SLACK, "more than a day in the future"),
    ]
    columns["ts"] = ts
    ids = columns["entity_id"]
    is_text = _is(ids, str)
    lengths = np.fromiter(
        (len(v) if t else 0 for v, t in zip(ids, is_text, strict=True)), dtype=int, count=len(ids)
    )
    checks += [
        ("entity_id", ~is_text, "required: a string"),
        (
            "entity_id",
            is_text & ((lengths < 1) | (lengths > MAX_ENTITY_CHARS)),
            f"must have 1 to {MAX_ENTITY_CHARS} characters",
        ),
    ]
    columns["entity_id"] = np.asarray(ids, dtype=object)
    for spec in ANOMALY_NUMERIC:
        values, wrong_type = _numbers(columns[spec.name], strict)
        missing = np.isnan(values) & ~wrong_type
        out = ~np.isnan(values) & ~((values >= spec.low) & (values <= spec.high))
        checks += [
            (spec.name, wrong_type, "expected a number"),
            (spec.name, missing, "required"),
            (spec.name, out, f"must be finite, in [{spec.low:g}, {spec.high:g}] {spec.unit}"),
        ]
        columns[spec.name] = values
    return checks


def validate(
    data: Columns | pd.DataFrame, strict: bool = True, now: np.datetime64 | None = None
) -> Batch:
    """Check every row; valid rows become the batch, the rest are named."""
    columns = _frame_columns(data) if isinstance(data, pd.DataFrame) else dict(data)
    n = len(columns["ts"])
    checks = _checks(columns, strict, now if now is not None else np.datetime64("now", "us"))
    first = np.full(n, -1)
    for i, (_, bad, _) in enumerate(checks):
        first[(first < 0) & bad] = i
    bad_rows = np.flatnonzero(first >= 0)
    rejections = [
        Rejection(int(row), checks[first[row]][0], checks[first[row]][2])
        for row in bad_rows[:MAX_LISTED]
    ]
    ok = first < 0
    valid = {name: columns[name][ok] for name in TELEMETRY_COLUMNS}
    for spec in ANOMALY_NUMERIC:
        valid[spec.name] = valid[spec.name].astype(np.float32)
    return Batch(valid, n, len(bad_rows), rejections)


def json_body(frame: pd.DataFrame) -> bytes:
    """A frame's telemetry columns as an ingest JSON body (times as UTC ISO 8601)."""
    rows = frame[list(TELEMETRY_COLUMNS)].assign(
        ts=frame["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        entity_id=frame["entity_id"].astype(str),
    )
    return orjson.dumps({"rows": rows.to_dict("records")})


def read_batch(body: bytes, content_type: str | None) -> Batch:
    """Parse and validate an ingest body of the given content type."""
    kind = media_type(content_type)
    if kind not in READERS:
        raise FormatError(f"unsupported content type {kind!r}; send one of {sorted(READERS)}")
    reader, strict = READERS[kind]
    return validate(reader(body), strict)
