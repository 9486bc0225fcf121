"""Synthetic data is seeded, labelled, shaped like the schema and priced like a bill."""

import numpy as np
import pandas as pd

from aetheredge.datasets import synthetic
from aetheredge.datasets.frames import validate_frame
from aetheredge.kinds.anomaly import ANOMALY_FEATURES


def test_telemetry_is_seeded_and_deterministic():
    a = synthetic.telemetry(10_000, seed=3)
    pd.testing.assert_frame_equal(a, synthetic.telemetry(10_000, seed=3))
    assert not a.equals(synthetic.telemetry(10_000, seed=4))


def test_telemetry_has_all_incident_kinds_at_the_requested_rate():
    frame = synthetic.telemetry(200_000, seed=0, incident_rate=0.02)
    assert 0.01 < frame.is_anomaly.mean() < 0.04
    kinds = set(frame.loc[frame.is_anomaly, "anomaly_kind"].astype(str))
    assert kinds == set(synthetic.ANOMALY_KINDS[1:])
    assert (frame.anomaly_kind.astype(str) != "none").eq(frame.is_anomaly).all()
    assert len(validate_frame("anomaly", frame)) == len(frame)  # every row inside the schema


def test_telemetry_looks_like_a_fleet():
    frame = synthetic.telemetry(100_000, seed=1)
    normal = frame[~frame.is_anomaly]
    # CPU follows traffic, latency degrades with CPU: correlated, not independent noise.
    per_entity = normal.groupby("entity_id", observed=True)
    assert (
        per_entity[["cpu_util", "request_rate"]]
        .corr()
        .xs("cpu_util", level=1)["request_rate"]
        .median()
        > 0.5
    )
    # A daily cycle: mean CPU by hour of day varies well beyond noise.
    by_hour = normal.groupby(normal.ts.dt.hour).cpu_util.mean()
    assert by_hour.max() - by_hour.min() > 0.01
    sat = frame[frame.anomaly_kind == "saturation"]
    assert sat.cpu_util.median() > 0.95
    assert sat.latency_p99_ms.median() > 3 * normal.latency_p99_ms.median()
    assert list(frame.columns[2:10]) == list(ANOMALY_FEATURES)


def test_rows_are_close_to_requested():
    assert abs(len(synthetic.telemetry(123_456, seed=0)) - 123_456) <= 2016


def test_ragged_ranges():
    got = synthetic._ragged_ranges(np.array([0, 10]), np.array([3, 2]))
    assert got.tolist() == [0, 1, 2, 10, 11]
