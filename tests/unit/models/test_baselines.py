"""The naive baselines: a price book (a unit price per region, pricing model and family,
times the vCPU-hours) for cost, a 3-sigma rule on the entity baselines for anomalies.
Each model must beat its own on the data it can read."""

import numpy as np
import pandas as pd
import pytest

from aetheredge import kinds
from aetheredge.datasets.frames import load_frame, split
from aetheredge.datasets.synthetic import cost_usage
from aetheredge.models import build_model
from aetheredge.models.baselines import ThreeSigmaBaseline, UnitPriceBaseline

COST = kinds.get("cost")


def _rows(*rows: dict) -> pd.DataFrame:
    base = {f.name: 0.0 for f in COST.numeric}
    base |= {"region": "us-east-1", "pricing_model": "on-demand", "instance_family": "general"}
    return pd.DataFrame([base | row for row in rows])


def test_the_price_is_the_median_per_book_row_times_the_quantity():
    train = _rows(
        {"vcpu_hours": 10.0, "cost_usd": 1.0},
        {"vcpu_hours": 10.0, "cost_usd": 3.0},
        {"vcpu_hours": 20.0, "cost_usd": 2.0},  # 0.1, 0.3, 0.1 a vCPU-hour: median 0.1
        {"vcpu_hours": 10.0, "cost_usd": 9.0, "region": "eu-west-1"},
        {"storage_gib_month": 5.0, "cost_usd": 4.0},  # no vCPU-hours: the row's median
    )
    baseline = UnitPriceBaseline().fit(COST.encode(train), train["cost_usd"].to_numpy())
    test = _rows(
        {"vcpu_hours": 100.0},
        {"vcpu_hours": 100.0, "region": "eu-west-1"},
        {"storage_gib_month": 1.0},
        {"vcpu_hours": 100.0, "region": "sa-east-1"},  # unseen: the overall median, 0.2
    )
    assert baseline.predict(COST.encode(test)) == pytest.approx([10.0, 90.0, 4.0, 20.0])


def test_the_cost_model_beats_the_price_book_on_synthetic_usage():
    data = split("cost", cost_usage(6_000, seed=3))
    naive = (
        UnitPriceBaseline().fit(data.X_train, data.y_train).evaluate(data.X_holdout, data.y_holdout)
    )
    model = build_model("cost", n_estimators=30, random_state=0).fit(data.X_train, data.y_train)
    forest = model.evaluate(data.X_holdout, data.y_holdout)
    assert forest["wape"] < naive["wape"] and forest["mae"] < naive["mae"]
    assert np.isfinite(naive["r2"])


def test_the_3_sigma_rule_flags_rows_far_from_their_entity_baseline():
    inputs = len(kinds.get("anomaly").input_names)
    X = np.zeros((4, inputs + 2))
    X[:, inputs:] = [[0.5, -1.0], [-3.5, 0.0], [2.9, 3.0], [0.0, 0.0]]  # no baseline: 0
    rule = ThreeSigmaBaseline().fit(X)
    assert rule.score_samples(X) == pytest.approx([1.0, 3.5, 3.0, 0.0])
    metrics = rule.evaluate(X, np.array([False, True, True, False]))
    assert (metrics["recall"], metrics["precision"], metrics["average_precision"]) == (1, 1, 1)


def test_the_detector_ranks_incidents_better_than_the_3_sigma_rule_on_synthetic_fleets():
    data = split("anomaly", load_frame("anomaly", rows=20_000, seed=14))
    rule = ThreeSigmaBaseline().fit(data.X_train).evaluate(data.X_holdout, data.y_holdout)
    model = build_model("anomaly", n_estimators=100, random_state=0).fit(data.X_train)
    detector = model.evaluate(data.X_holdout, data.y_holdout)
    assert detector["average_precision"] > rule["average_precision"] > 0
