"""Telemetry ingest parsing: every format, every refusal named, nothing silently coerced."""

import io
from datetime import UTC, datetime

import numpy as np
import orjson
import pandas as pd
import pytest

from aetheredge.api.v1 import TelemetryBatch
from aetheredge.datasets.synthetic import telemetry
from aetheredge.ingest.telemetry import FormatError, read_batch, validate
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS

NOW = np.datetime64("2026-06-01", "us")


def _frame(rows: int = 50) -> pd.DataFrame:
    frame = telemetry(rows, seed=4, start="2026-05-30")[list(TELEMETRY_COLUMNS)]
    return frame.reset_index(drop=True)


def _json_rows(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    out["ts"] = out["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.to_dict("records")


def test_valid_json_batch_round_trips_exactly():
    frame = _frame()
    batch = validate(pd.DataFrame(_json_rows(frame)), now=NOW)
    assert (batch.received, len(batch), batch.rejected) == (len(frame), len(frame), 0)
    records = batch.records()
    assert records[0][0] == frame["ts"][0].to_pydatetime().replace(tzinfo=UTC)
    assert records[0][1] == frame["entity_id"][0]
    assert records[0][2] == float(np.float32(frame["cpu_util"][0]))
    assert batch.days() == {d.date() for d in frame["ts"]}


def test_each_bad_row_is_refused_alone_and_named():
    rows = _json_rows(_frame(20))
    rows[1]["cpu_util"] = 1.5
    rows[2]["ts"] = "yesterday"
    rows[3]["entity_id"] = 7
    rows[4]["request_rate"] = "100"  # JSON text is not a number
    rows[5]["error_rate"] = True
    del rows[6]["mem_util"]
    rows[7]["ts"] = "1999-12-31T23:00:00Z"
    rows[8]["ts"] = "2026-06-03T00:00:00Z"
    rows[9]["entity_id"] = ""
    rows[10]["latency_p99_ms"] = -1
    batch = validate(pd.DataFrame(rows), now=NOW)
    named = {(r.row, r.field) for r in batch.rejections}
    assert named == {
        (1, "cpu_util"),
        (2, "ts"),
        (3, "entity_id"),
        (4, "request_rate"),
        (5, "error_rate"),
        (6, "mem_util"),
        (7, "ts"),
        (8, "ts"),
        (9, "entity_id"),
        (10, "latency_p99_ms"),
    }
    assert (batch.rejected, len(batch)) == (10, 10)
    reasons = {r.row: r.msg for r in batch.rejections}
    assert reasons[1] == "must be finite, in [0, 1] fraction"
    assert reasons[4] == reasons[5] == "expected a number"
    assert reasons[6] == "required"
    assert "future" in reasons[8]


def test_offsets_are_converted_to_utc_and_naive_times_are_utc():
    rows = _json_rows(_frame(2))
    rows[0]["ts"] = "2026-05-31T12:00:00+02:00"
    rows[1]["ts"] = "2026-05-31T12:00:00"
    records = validate(pd.DataFrame(rows), now=NOW).records()
    assert records[0][0] == datetime(2026, 5, 31, 10, tzinfo=UTC)
    assert records[1][0] == datetime(2026, 5, 31, 12, tzinfo=UTC)


def test_csv_and_parquet_carry_the_same_rows_as_json():
    frame = _frame()
    as_json = read_batch(orjson.dumps({"rows": _json_rows(frame)}), "application/json")
    as_csv = read_batch(frame.to_csv(index=False).encode(), "text/csv; charset=utf-8")
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    as_parquet = read_batch(buffer.getvalue(), "application/vnd.apache.parquet")
    assert as_json.records() == as_csv.records() == as_parquet.records()


def test_csv_text_in_a_number_column_refuses_that_row():
    lines = _frame(5).to_csv(index=False).splitlines()
    cells = lines[2].split(",")
    cells[2] = "lots"
    lines[2] = ",".join(cells)
    batch = read_batch("\n".join(lines).encode(), "text/csv")
    assert [(r.row, r.field, r.msg) for r in batch.rejections] == [
        (1, "cpu_util", "expected a number")
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{", "application/json", "not valid JSON"),
        (b'{"rows": 3}', "application/json", "expected"),
        (b'{"rows": [1, 2]}', "application/json", "row 0 is not a JSON object"),
        (b"[]", "application/json", "nothing else"),  # the rows, but not as documented
        (b'{"rows": [], "more": 1}', "application/json", "nothing else"),
        (b"\x00\x01", "application/vnd.apache.parquet", "not readable Parquet"),
        (b'{"rows": [{"ts": "2026-01-01T00:00:00Z", "host": "a"}]}', "application/json", "unknown"),
    ],
)
def test_unreadable_bodies_are_refused_whole(body, content_type, message):
    with pytest.raises(FormatError, match=message):
        read_batch(body, content_type)


def test_documented_json_model_accepts_what_ingest_accepts():
    rows = _json_rows(_frame(3))
    body = orjson.dumps({"rows": rows})
    assert len(TelemetryBatch.model_validate_json(body).rows) == 3
    assert len(validate(pd.DataFrame(rows), now=NOW)) == 3
