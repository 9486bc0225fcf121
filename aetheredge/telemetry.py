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

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from aetheredge.schema import ANOMALY_NUMERIC

TELEMETRY_COLUMNS: tuple[str, ...] = ("ts", "entity_id", *(f.name for f in ANOMALY_NUMERIC))
MAX_ENTITY_CHARS = 256
EARLIEST = pd.Timestamp("2000-01-01", tz="UTC")
FUTURE_SLACK = pd.Timedelta(days=1)
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


def _json(body: bytes) -> pd.DataFrame:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"body is not valid JSON: {exc}") from None
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise FormatError('expected {"rows": [...]} or a JSON array of row objects')
    if not all(isinstance(row, dict) for row in rows):
        index = next(i for i, row in enumerate(rows) if not isinstance(row, dict))
        raise FormatError(f"row {index} is not a JSON object")
    return pd.DataFrame.from_records(rows)


def _csv(body: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(body), dtype={"entity_id": str}, engine="c")
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FormatError(f"body is not readable CSV: {exc}") from None


def _parquet(body: bytes) -> pd.DataFrame:
    try:
        return pq.read_table(pa.BufferReader(body)).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FormatError(f"body is not readable Parquet: {exc}") from None


# Content type -> reader, and whether numbers must already be numbers (JSON) rather
# than text to convert (CSV).
READERS: dict[str, tuple[Callable[[bytes], pd.DataFrame], bool]] = {
    "application/json": (_json, True),
    "text/csv": (_csv, False),
    "application/vnd.apache.parquet": (_parquet, True),
    "application/x-parquet": (_parquet, True),
}


def media_type(content_type: str | None) -> str:
    """``content_type`` without parameters; JSON when absent."""
    return (content_type or "application/json").split(";")[0].strip().lower()


Check = tuple[str, np.ndarray, str]


def _checks(frame: pd.DataFrame, strict: bool, now: pd.Timestamp) -> list[Check]:
    """(field, bad-row mask, reason) for every check, in the order they are reported."""
    n = len(frame)
    checks = []
    raw_ts = frame["ts"]
    if pd.api.types.is_datetime64_any_dtype(raw_ts):
        ts = raw_ts.dt.tz_localize("UTC") if raw_ts.dt.tz is None else raw_ts.dt.tz_convert("UTC")
        not_text = np.zeros(n, dtype=bool)
    else:
        not_text = ~raw_ts.map(type).eq(str).to_numpy()
        ts = pd.to_datetime(raw_ts.where(~not_text), utc=True, errors="coerce", format="ISO8601")
    checks.append(("ts", not_text | ts.isna().to_numpy(), "expected an ISO 8601 timestamp"))
    checks.append(("ts", (ts < EARLIEST).to_numpy(), "before 2000-01-01"))
    checks.append(("ts", (ts > now + FUTURE_SLACK).to_numpy(), "more than a day in the future"))
    frame["ts"] = ts.dt.tz_localize(None)

    ids = frame["entity_id"]
    is_text = ids.map(type).eq(str).to_numpy()
    checks.append(("entity_id", ~is_text, "required: a string"))
    lengths = ids.where(is_text, "").str.len().to_numpy()
    checks.append(
        (
            "entity_id",
            is_text & ((lengths < 1) | (lengths > MAX_ENTITY_CHARS)),
            f"must have 1 to {MAX_ENTITY_CHARS} characters",
        )
    )

    for spec in ANOMALY_NUMERIC:
        raw = frame[spec.name]
        if raw.dtype.kind in "fiu":
            wrong_type = np.zeros(n, dtype=bool)
        elif strict:
            types = raw.map(type)
            wrong_type = ~(types.eq(float) | types.eq(int) | raw.isna()).to_numpy()
        else:
            converted = pd.to_numeric(raw, errors="coerce")
            wrong_type = (raw.notna() & converted.isna()).to_numpy()
        values = pd.to_numeric(raw.where(~wrong_type), errors="coerce").to_numpy(dtype=np.float64)
        checks.append((spec.name, wrong_type, "expected a number"))
        checks.append((spec.name, np.isnan(values) & ~wrong_type, "required"))
        out = ~np.isnan(values) & ~((values >= spec.low) & (values <= spec.high))
        limits = f"must be finite, in [{spec.low:g}, {spec.high:g}] {spec.unit}"
        checks.append((spec.name, out, limits))
        frame[spec.name] = values
    return checks


def validate(frame: pd.DataFrame, strict: bool = True, now: pd.Timestamp | None = None) -> Batch:
    """Check every row of ``frame``; valid rows become the batch, the rest are named."""
    unknown = [c for c in frame.columns if c not in TELEMETRY_COLUMNS]
    missing = [c for c in TELEMETRY_COLUMNS if c not in frame.columns]
    if unknown or missing:
        raise FormatError(
            f"columns must be {list(TELEMETRY_COLUMNS)}; unknown {unknown}, missing {missing}"
        )
    frame = frame.reset_index(drop=True)
    checks = _checks(frame, strict, now or pd.Timestamp.now(tz="UTC"))
    first = np.full(len(frame), -1)
    for i, (_, bad, _) in enumerate(checks):
        first[(first < 0) & bad] = i
    bad_rows = np.flatnonzero(first >= 0)
    rejections = [
        Rejection(int(row), checks[first[row]][0], checks[first[row]][2])
        for row in bad_rows[:MAX_LISTED]
    ]
    ok = first < 0
    columns = {
        "ts": frame["ts"].to_numpy(dtype="datetime64[us]")[ok],
        "entity_id": frame["entity_id"].to_numpy(dtype=object)[ok],
        **{f.name: frame[f.name].to_numpy(dtype=np.float32)[ok] for f in ANOMALY_NUMERIC},
    }
    return Batch(columns, len(frame), len(bad_rows), rejections)


def read_batch(body: bytes, content_type: str | None) -> Batch:
    """Parse and validate an ingest body of the given content type."""
    kind = media_type(content_type)
    if kind not in READERS:
        raise FormatError(f"unsupported content type {kind!r}; send one of {sorted(READERS)}")
    reader, strict = READERS[kind]
    return validate(reader(body), strict)
