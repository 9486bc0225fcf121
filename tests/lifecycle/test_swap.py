"""Zero-downtime swap on real Ray Serve: steady load while promoting and rolling back."""

import time

import pytest

from aetheredge.api.client import ServiceClient
from aetheredge.api.v1 import row_columns
from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.bills import cost_rows
from aetheredge.datasets.frames import load_frame, split
from aetheredge.lifecycle import champion
from aetheredge.models import build_model
from aetheredge.ops.deployment import deploy
from tests.support.steady import SteadyLoad

pytestmark = pytest.mark.integration
SWITCH_S = 10.0


def test_promotion_and_rollback_under_load_fail_no_request(platform, first_versions):
    settings, dashboard = platform
    registry = Registry(settings)
    served = deploy(settings, dashboard, {"anomaly": None, "cost": None})  # follow champions
    old = registry.champion("cost").version
    assert served["cost"] == old
    data = split("cost", load_frame("cost", rows=8_000, seed=11))
    model = build_model("cost", n_estimators=8, random_state=3).fit(data.X_train, data.y_train)
    new = registry.register(
        model,
        params={"purpose": "swap test"},
        metrics=model.evaluate(data.X_holdout, data.y_holdout),
        sample=data.X_holdout[:500],
        tags={},
    ).version
    rows = cost_rows(20, seed=4).to_dict("records")
    body = {"rows": [{k: r[k] for k in row_columns("cost")} for r in rows]}
    client = ServiceClient.from_settings(settings)
    with SteadyLoad(client, "/v1/cost/predict", body, clients=4) as load:
        time.sleep(3)
        promoted_at = time.time()
        champion.promote(registry, "cost", new, "swap test")
        _wait_for(load, new, promoted_at)
        time.sleep(3)
        rolled_back_at = time.time()
        assert champion.rollback(registry, "cost", "swap test") == (new, old)
        _wait_for(load, old, rolled_back_at)
        time.sleep(3)
    assert load.failures() == [], load.failures()[:5]
    assert len(load.answers) > 200
    to_new = load.first(new, promoted_at) - promoted_at
    to_old = load.first(old, rolled_back_at) - rolled_back_at
    print(f"swap: promote {to_new:.2f}s, rollback {to_old:.2f}s, {len(load.answers)} requests")
    assert to_new < SWITCH_S and to_old < SWITCH_S
    # once switched, every replica answers with the new version: no flapping back
    assert load.versions_between(promoted_at + SWITCH_S, rolled_back_at) == {new}
    assert load.versions_between(rolled_back_at + SWITCH_S, time.time()) == {old}
    assert load.versions_between(0, promoted_at) == {old}


def _wait_for(load: SteadyLoad, version: str, since: float) -> None:
    deadline = since + SWITCH_S + 5
    while time.time() < deadline and load.first(version, since) is None:
        time.sleep(0.1)
    # and long enough that every replica has had its poll
    time.sleep(SWITCH_S)
