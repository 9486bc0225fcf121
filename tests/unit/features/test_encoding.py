"""Encoders are stateless and identical for frames (training) and row lists (serving)."""

import numpy as np
import pandas as pd
import pytest

from aetheredge import kinds
from aetheredge.datasets import synthetic
from aetheredge.datasets.bills import cost_rows
from aetheredge.kinds.cost import COST_CATEGORICAL, COST_NUMERIC


@pytest.mark.parametrize(("kind", "make"), [("anomaly", synthetic.telemetry), ("cost", cost_rows)])
def test_frame_and_records_encode_identically(kind, make):
    frame = make(500, seed=2)
    records = frame.to_dict("records")
    as_columns = {c: [r[c] for r in records] for c in frame.columns}
    np.testing.assert_array_equal(kinds.get(kind).encode(frame), kinds.get(kind).encode(as_columns))
    assert kinds.get(kind).encode(frame).shape == (len(frame), len(kinds.get(kind).input_names))
    assert kinds.get(kind).encode(frame).dtype == np.float32


def test_cost_one_hot_layout():
    frame = cost_rows(200, seed=0)
    X = kinds.get("cost").encode(frame)
    offset = len(COST_NUMERIC)
    for cat in COST_CATEGORICAL:
        block = X[:, offset : offset + len(cat.values)]
        assert (block.sum(axis=1) == 1).all()
        read = cat.of or str
        expected = [cat.values.index(read(value)) for value in frame[cat.name]]
        assert (block.argmax(axis=1) == expected).all()
        offset += len(cat.values)


def test_unknown_category_raises_with_the_value():
    frame = cost_rows(3, seed=0)
    frame.loc[1, "pricing_category"] = "Haggled"
    with pytest.raises(ValueError, match="Haggled"):
        kinds.get("cost").encode(frame)


def test_heavy_tails_are_log_compressed():
    frame = synthetic.telemetry(2016, seed=0)
    X = kinds.get("anomaly").encode(frame)
    np.testing.assert_allclose(X[:, 7], np.log1p(frame.request_rate.to_numpy()), rtol=1e-5)
    np.testing.assert_allclose(X[:, 0], frame.cpu_util.to_numpy(), rtol=1e-6)


def test_a_missing_free_text_value_reads_as_null_whether_none_nan_or_na():
    region = next(c for c in COST_CATEGORICAL if c.name == "region")
    raw = pd.Series(["eu-west-1", None, pd.NA, "mars-north-1"], dtype="string")  # as read
    codes = region.codes([*raw, float("nan")])
    assert [region.values[c] for c in codes] == ["europe", "global", "global", "other", "global"]
    pricing = next(c for c in COST_CATEGORICAL if c.name == "pricing_category")
    assert pricing.codes(["Dynamic", None, float("nan"), pd.NA, "Haggled"]).tolist() == [
        1,
        -1,
        -1,
        -1,
        -1,
    ]
