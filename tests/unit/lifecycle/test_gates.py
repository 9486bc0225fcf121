"""Promotion gates: floors and a naive baseline first, then a margin on the primary
metric and no regression on any gated one."""

import pytest

from aetheredge.lifecycle.gates import decide

CHAMPION = {
    "f1": 0.60,
    "recall": 0.70,
    "alert_rate": 0.010,
    "mae": 2.0,
    "mape": 0.10,
    "r2": 0.8,
    "wape": 0.12,
}
BASELINE = {"mae": 5.0, "mape": 0.4, "r2": 0.3, "wape": 0.35}


def _anomaly(margin: float = 0.01, tolerance: float = 0.0, **challenger: float):
    metrics = CHAMPION | challenger
    return decide(
        "anomaly", "2", metrics, "1", CHAMPION, compiled=True, margin=margin, tolerance=tolerance
    )


def test_a_clear_win_on_every_gate_is_promoted():
    decision = _anomaly(f1=0.70, recall=0.75, alert_rate=0.009)
    assert decision.promoted and decision.event == "promotion"
    assert [c.metric for c in decision.checks] == ["f1", "recall", "alert_rate"]
    assert all(c.passed for c in decision.checks)


def test_a_win_smaller_than_the_margin_is_rejected():
    decision = _anomaly(margin=0.05, f1=0.62)  # +3.3 % < 5 %
    assert not decision.promoted and decision.event == "rejection"
    assert "f1 0.62 misses ≥ 0.63" in decision.reason


@pytest.mark.parametrize(("metric", "value"), [("recall", 0.69), ("alert_rate", 0.0101)])
def test_any_regression_vetoes_a_better_primary_metric(metric, value):
    decision = _anomaly(f1=0.80, **{metric: value})
    assert not decision.promoted
    failed = [c.metric for c in decision.checks if not c.passed]
    assert failed == [metric]


def test_tolerance_forgives_small_regressions_only():
    assert _anomaly(tolerance=0.02, f1=0.8, recall=0.69).promoted  # -1.4 %
    assert not _anomaly(tolerance=0.02, f1=0.8, recall=0.68).promoted  # -2.9 %


def test_lower_is_better_for_cost_metrics():
    def cost(**metrics: float):
        challenger = CHAMPION | metrics
        return decide(
            "cost", "2", challenger, "1", CHAMPION, compiled=True, margin=0.01, tolerance=0
        )

    assert cost(mae=1.5, mape=0.09).promoted
    mape_worse = cost(mae=1.5, mape=0.11)
    assert not mape_worse.promoted and "mape" in mape_worse.reason


def test_no_champion_and_uncompiled_challengers():
    first = decide("cost", "1", CHAMPION, None, {}, compiled=True, margin=0.01, tolerance=0)
    assert first.promoted and first.checks == ()
    assert [(c.metric, c.against, c.passed) for c in first.floors] == [("r2", "floor", True)]
    broken = decide("cost", "2", CHAMPION, None, {}, compiled=False, margin=0.01, tolerance=0)
    assert not broken.promoted and "compiled" in broken.reason


def test_nan_metric_never_passes_and_details_are_json_ready():
    import json

    decision = _anomaly(f1=float("nan"))
    assert not decision.promoted
    details = json.loads(json.dumps(decision.details(), allow_nan=True))
    assert details["challenger"] == "2" and details["checks"][0]["passed"] is False


def _cost(champion: str | None = "1", **challenger: float):
    return decide(
        "cost",
        "2",
        CHAMPION | {"mae": 1.5, "mape": 0.09} | challenger,
        champion,
        CHAMPION if champion else {},
        compiled=True,
        margin=0.01,
        tolerance=0,
        baseline_metrics=BASELINE,
    )


def test_a_model_worse_than_the_mean_is_refused_whatever_the_champion():
    # the real bills' case: R² 0.017 promoted over a worse synthetic champion
    decision = _cost(r2=-0.2)
    assert not decision.promoted and decision.checks == ()
    assert decision.reason == "r2 -0.2 misses ≥ 0 (the floor)"
    assert not _cost(champion=None, r2=-0.2).promoted  # a first version too


def test_a_challenger_must_beat_the_naive_baseline():
    decision = _cost(mae=6.0, wape=0.3)
    assert not decision.promoted
    assert decision.reason == "mae 6 misses < 5 (the naive baseline)"
    failed = [(c.metric, c.against) for c in decision.floors if not c.passed]
    assert failed == [("mae", "baseline")]
    first = _cost(champion=None)
    assert first.promoted and first.reason == "no champion yet; clears the floors and the baseline"


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [
        ({"recall": 0.0, "f1": 0.0}, "recall 0 misses > 0 (the floor)"),
        ({"alert_rate": 0.25}, "alert_rate 0.25 misses ≤ 0.2 (the floor)"),
    ],
)
def test_a_detector_that_finds_nothing_or_flags_too_much_is_refused(metrics, reason):
    for champion in ("1", None):
        decision = decide(
            "anomaly",
            "2",
            CHAMPION | {"f1": 0.9} | metrics,
            champion,
            CHAMPION if champion else {},
            compiled=True,
            margin=0.01,
            tolerance=1.0,
        )
        assert not decision.promoted and decision.reason == reason


def test_a_detector_must_rank_incidents_better_than_the_3_sigma_rule():
    def first(average_precision: float):
        metrics = CHAMPION | {"average_precision": average_precision}
        return decide(
            "anomaly",
            "1",
            metrics,
            None,
            {},
            compiled=True,
            margin=0.01,
            tolerance=0,
            baseline_metrics={"average_precision": 0.4, "f1": 0.7},
        )

    assert first(0.5).promoted
    refused = first(0.4)  # a tie is no win
    assert refused.reason == "average_precision 0.4 misses > 0.4 (the naive baseline)"
