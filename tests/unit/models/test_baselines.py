"""The naive baselines: a price book (a unit price per SKU times the quantity) for cost,
a 3-sigma rule on the entity baselines for anomalies. Each model must beat its own on
the data it can read."""

import numpy as np
import pandas as pd
import pytest

from aetheredge import kinds
from aetheredge.datasets.bills import cost_rows
from aetheredge.datasets.frames import load_frame, split
from aetheredge.models import build_model
from aetheredge.models.baselines import ThreeSigmaBaseline, UnitPriceBaseline

COST = kinds.get("cost")


def _rows(*rows: dict) -> pd.DataFrame:
    base = {f.name: 0.0 for f in COST.numeric} | {"cores": 4.0, "memory_gib": 16.0}
    base |= {
        "provider": "AWS",
        "region": "us-east-1",
        "service_category": "Compute",
        "service_subcategory": "Virtual Machines",
        "pricing_category": "Standard",
        "commitment_status": None,
        "charge_frequency": "Usage-Based",
    }
    return pd.DataFrame([base | row for row in rows])


def test_the_price_is_the_median_per_sku_times_the_quantity():
    train = _rows(
        {"vcpu_hours": 10.0, "cost": 1.0},
        {"vcpu_hours": 10.0, "cost": 3.0},
        {"vcpu_hours": 20.0, "cost": 2.0},  # 0.1, 0.3, 0.1 a vCPU-hour: median 0.1
        {"vcpu_hours": 10.0, "cost": 9.0, "region": "eu-west-1"},  # another SKU: 0.9
        {"vcpu_hours": 10.0, "cost": 5.0, "cores": 8.0},  # a bigger instance: 0.5
        {"storage_gib_month": 5.0, "cost": 4.0, "cores": 0.0, "memory_gib": 0.0},  # 0.8
        {"cost": 7.0, "service_category": "Other"},  # no quantity: the SKU's median cost
    )
    baseline = UnitPriceBaseline().fit(COST.encode(train), train["cost"].to_numpy())
    test = _rows(
        {"vcpu_hours": 100.0},
        {"vcpu_hours": 100.0, "region": "eu-central-1"},  # Europe too: the same SKU
        {"vcpu_hours": 100.0, "cores": 8.0},
        {"storage_gib_month": 1.0, "cores": 0.0, "memory_gib": 0.0},
        {"service_category": "Other"},
        {"vcpu_hours": 100.0, "provider": "Oracle"},  # unseen: all vCPU-hours' median, 0.3
    )
    predicted = baseline.predict(COST.encode(test))
    assert predicted == pytest.approx([10.0, 90.0, 50.0, 0.8, 7.0, 30.0])


def test_the_cost_model_beats_the_price_book_on_synthetic_bills():
    data = split("cost", cost_rows(6_000, seed=3))
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
