"""Data sources: synthetic or Parquet, checked against the schema, split by time."""

import numpy as np
import pytest

from aetheredge.datasets.bills import cost_rows
from aetheredge.datasets.frames import DataError, load_frame, split


def test_split_holds_out_the_newest_rows():
    frame = load_frame("anomaly", rows=20_000, seed=0)
    parts = split("anomaly", frame, holdout_fraction=0.25)
    assert len(parts.X_holdout) / len(frame) == pytest.approx(0.25, abs=0.02)
    assert parts.y_train.dtype == bool


def test_parquet_source_drops_rows_that_break_the_schema(tmp_path):
    frame = cost_rows(1_000, seed=0)
    frame.loc[3, "vcpu_hours"] = np.nan
    frame.loc[4, "egress_gib"] = -1.0
    frame.loc[5, "service_category"] = "Spaceships"  # not one of FOCUS's
    frame.loc[6, "region"] = "mars-north-1"  # any region is read: its area is "other"
    path = tmp_path / "usage.parquet"
    frame.to_parquet(path)
    loaded = load_frame("cost", str(path), rows=10_000)
    assert len(loaded) == 997
    assert loaded.ts.is_monotonic_increasing


def test_bad_sources_fail_clearly(tmp_path):
    with pytest.raises(DataError, match="or an existing path"):
        load_frame("cost", str(tmp_path / "missing.parquet"))
    path = tmp_path / "partial.parquet"
    cost_rows(10, seed=0).drop(columns=["cost", "effective_cost", "billed_cost"]).to_parquet(path)
    with pytest.raises(DataError, match="'cost'"):
        load_frame("cost", str(path))
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="cannot read"):
        load_frame("cost", str(tmp_path / "junk.parquet"))
