"""The NAB evaluation's detectors: they see no future, and alert once per incident."""

import numpy as np
import pandas as pd
import pytest

from aetheredge.features.baselines import ALPHA, history
from evaluation.nab import Series
from evaluation.nab_eval import ForestDetector, alerts, metric_of, telemetry, three_sigma
from evaluation.stream_features import GROUPS, stream_features

ROWS = 1200


def _series(name: str = "realAWSCloudwatch/ec2_cpu_utilization_test.csv") -> Series:
    times = pd.date_range("2026-01-05", periods=ROWS, freq="5min")
    hours = (times.hour + times.minute / 60).to_numpy()
    rng = np.random.default_rng(0)
    values = 40 + 20 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 2, ROWS)
    values[1000:1010] = 99.0  # an outage-sized spike
    return Series(name, times, values, ((990, 1020),))


def _changed_after(series: Series, row: int) -> Series:
    values = series.values.copy()
    values[row:] = np.random.default_rng(1).uniform(0, 100, len(values) - row)
    return Series(series.name, series.timestamps, values, series.windows)


def test_default_horizon_is_the_service_baseline():
    X = np.random.default_rng(0).normal(size=(50, 3))
    ours, service = history(X, ALPHA), history(X)
    np.testing.assert_array_equal(ours[0].mean, service[0].mean)
    np.testing.assert_array_equal(ours[2], service[2])


def test_stream_features_use_no_future_rows():
    series = _series()
    x = np.log1p(series.values)
    altered = np.log1p(_changed_after(series, 700).values)
    groups = tuple(GROUPS)
    before = stream_features(x, series.timestamps, groups)
    after = stream_features(altered, series.timestamps, groups)
    assert before.shape == (ROWS, 8)  # 2 horizons, rate, daily, 2 + 2 cycle columns
    assert np.isfinite(before).all()
    np.testing.assert_array_equal(before[:700], after[:700])
    assert not np.array_equal(before[700:], after[700:])


def test_forest_detector_sees_no_future_and_finds_the_spike():
    series = _series()
    detector = ForestDetector(groups=tuple(GROUPS))
    flags = detector(series)
    assert flags[1000:1010].any()  # the spike raises an alert
    changed = detector(_changed_after(series, 1100))
    np.testing.assert_array_equal(flags[:1100], changed[:1100])


def test_alert_hold_pages_once_per_incident():
    flags = np.zeros(20, dtype=bool)
    flags[[2, 3, 4, 9, 15]] = True
    assert np.flatnonzero(alerts(flags, 5)).tolist() == [2, 9, 15]
    assert np.flatnonzero(alerts(flags, 0)).tolist() == [2, 3, 4, 9, 15]
    assert np.flatnonzero(alerts(three_sigma(_series()), 10**6)).size <= 1


@pytest.mark.parametrize(
    ("name", "metric", "factor"),
    [
        ("realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv", "cpu_util", 0.01),
        ("realAWSCloudwatch/ec2_network_in_257a54.csv", "net_in_mbps", 8e-6 / 300),
        ("realAWSCloudwatch/elb_request_count_8c0756.csv", "request_rate", 1 / 300),
        ("realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv", "disk_io_mbps", 1e-6 / 300),
    ],
)
def test_series_become_the_service_metric_they_measure(name, metric, factor):
    series = _series(name)
    assert metric_of(series) == (metric, pytest.approx(factor))
    frame, named = telemetry(series)
    assert named == metric
    assert frame[metric].max() <= (1.0 if metric == "cpu_util" else np.inf)
    others = frame.drop(columns=[metric, "ts", "entity_id"])
    assert (others == 0).all().all() and (frame["entity_id"] == name).all()
