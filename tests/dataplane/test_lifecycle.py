"""Champion moves (promote, rollback) recorded in MLflow and model_events, and replicas'
in-place swap, on the real MLflow SQLite store and PostgreSQL, without Ray."""

import asyncio
import json

import numpy as np
import pytest
from mlflow.artifacts import load_dict
from typer.testing import CliRunner

from aetheredge.artifacts.registry import DECISION_ARTIFACT, Registry
from aetheredge.cli.main import app
from aetheredge.datasets.frames import load_frame, split
from aetheredge.lifecycle import champion, events
from aetheredge.lifecycle.gates import decide
from aetheredge.lifecycle.lock import exclusive_retraining
from aetheredge.models import build_model
from aetheredge.ops.cluster import free_port
from aetheredge.serving.runtime import runtime_for
from aetheredge.serving.swap import ModelSwapper


@pytest.fixture(scope="module")
def registry(db_settings):
    """Three cost versions; none is champion yet."""
    registry = Registry(db_settings.model_copy(update={"model_prefix": "life"}))
    data = split("cost", load_frame("cost", rows=6_000, seed=2))
    for trees in (3, 4, 5):
        model = build_model("cost", n_estimators=trees, random_state=0)
        model.fit(data.X_train, data.y_train)
        registry.register(
            model,
            params={},
            metrics=model.evaluate(data.X_holdout, data.y_holdout),
            sample=data.X_holdout[:200],
            tags={},
        )
    return registry


def test_a_decision_lands_in_mlflow_and_model_events(registry):
    candidate = registry.resolve("cost", "1")
    decision = decide(
        "cost", "1", candidate.metrics, None, {}, compiled=True, margin=0.01, tolerance=0.0
    )
    champion.conclude(registry, candidate, decision, {})
    assert registry.champion("cost").version == "1"
    assert registry.resolve("cost", "1").decision == "promoted"
    saved = load_dict(f"runs:/{candidate.run_id}/{DECISION_ARTIFACT}")
    assert saved["promoted"] is True and saved["reason"] == "no champion yet; clears the floors"
    rejected = registry.resolve("cost", "2")
    worse = {**candidate.metrics, "mae": candidate.metrics["mae"] * 2}
    verdict = decide(
        "cost", "2", worse, "1", candidate.metrics, compiled=True, margin=0.01, tolerance=0.0
    )
    champion.conclude(registry, rejected, verdict, candidate.metrics)
    assert registry.champion("cost").version == "1"
    run = registry.client.get_run(rejected.run_id).data
    assert run.tags["aetheredge.decision"] == "rejected"
    assert run.metrics["champion_holdout_mae"] == candidate.metrics["mae"]
    latest, previous = events.recent(registry.settings, "cost", 2)
    assert (previous.event, previous.version, previous.previous_version) == ("promotion", "1", None)
    assert (latest.event, latest.version, latest.previous_version) == ("rejection", "2", "1")
    assert [c["metric"] for c in latest.details["checks"]] == ["mae", "mape"]
    assert latest.details["checks"][0]["passed"] is False
    assert latest.details["run_id"] == rejected.run_id


def test_rollback_walks_back_through_the_champions(registry):
    registry.promote("cost", "1")
    assert champion.promote(registry, "cost", "3", "hand-picked") == "1"
    assert registry.champion("cost").previous_champion == "1"
    assert champion.rollback(registry, "cost", "bad release") == ("3", "1")
    assert registry.champion("cost").version == "1"
    rollback, promotion = events.recent(registry.settings, "cost", 2)
    assert (rollback.event, rollback.version, rollback.previous_version) == ("rollback", "1", "3")
    assert rollback.details == {"reason": "bad release"}
    assert promotion.details == {"manual": True, "reason": "hand-picked"}
    assert registry.champion("cost").previous_champion is None
    with pytest.raises(LookupError, match="no earlier champion"):
        registry.rollback("cost")


def test_models_cli_lists_promotes_and_rolls_back(registry, monkeypatch):
    for name, value in registry.settings.child_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AETHER_MODEL_PREFIX", "life")
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    registry.promote("cost", "1")
    out = runner.invoke(app, ["models", "promote", "cost", "2", "--reason", "cli"])
    assert out.exit_code == 0 and "v1 → v2" in out.output, out.output
    listing = runner.invoke(app, ["models", "list", "--model", "cost"])
    assert listing.exit_code == 0 and "champion" in listing.output and "mape" in listing.output
    out = runner.invoke(app, ["models", "rollback", "cost"])
    assert out.exit_code == 0 and "v2 → v1" in out.output, out.output
    assert registry.champion("cost").version == "1"
    out = runner.invoke(app, ["models", "promote", "cost", "42"])
    assert out.exit_code == 1 and "version 42" in out.output
    log = runner.invoke(app, ["models", "events", "--model", "cost", "--limit", "2"])
    assert log.exit_code == 0 and "rollback" in log.output and "promotion" in log.output


def test_swapper_follows_the_alias_while_requests_keep_flowing(registry):
    registry.promote("cost", "1")
    runtimes = {"cost": runtime_for("cost", registry)}
    loads: list[tuple[str, str]] = []
    swapper = ModelSwapper(runtimes, 0.05, lambda k, r, f, s: loads.append((k, r.version)))
    X = np.asarray(split("cost", load_frame("cost", rows=2_000, seed=9)).X_holdout[:50])

    async def scenario() -> list[str]:
        await swapper.pin({"cost": None})
        assert runtimes["cost"].version == "1"
        swapper.start()
        served: list[str] = []
        stop = asyncio.Event()

        async def load() -> None:  # scoring never pauses or fails while a version loads
            while not stop.is_set():
                served.append(runtimes["cost"].score(X).version)
                await asyncio.sleep(0)

        traffic = asyncio.create_task(load())
        await asyncio.to_thread(registry.promote, "cost", "3")
        for _ in range(200):
            await asyncio.sleep(0.05)
            if runtimes["cost"].version == "3":
                break
        await asyncio.sleep(0.1)
        stop.set()
        await traffic
        await swapper.stop()
        return served

    served = asyncio.run(scenario())
    assert loads == [("cost", "1"), ("cost", "3")]
    assert served[0] == "1" and served[-1] == "3"
    switch = served.index("3")
    assert set(served[:switch]) == {"1"} and set(served[switch:]) == {"3"}  # one clean cut
    assert served.count("1") > 10  # the old version answered while the new one loaded


def test_pinned_kinds_stay_put_and_unknown_pins_fail(registry):
    registry.promote("cost", "1")
    runtimes = {"cost": runtime_for("cost", registry)}
    swapper = ModelSwapper(runtimes, 60.0)

    async def scenario() -> dict:
        await swapper.pin({"cost": "2"})
        registry.promote("cost", "3")
        moved = await swapper.check()
        with pytest.raises(LookupError):
            await swapper.pin({"cost": "42"})
        return moved

    assert asyncio.run(scenario()) == {}
    assert runtimes["cost"].version == "2"
    assert json.dumps(runtimes["cost"].card().model_dump())  # still a whole, loaded version


def test_one_retraining_of_a_model_at_a_time(db_settings):
    """While one process retrains a model, another is told to skip it; the other model,
    and the same model once the first is done, are free."""
    with exclusive_retraining(db_settings, "cost") as first:
        assert first
        with exclusive_retraining(db_settings, "cost") as second:
            assert not second
        with exclusive_retraining(db_settings, "anomaly") as other:
            assert other
    with exclusive_retraining(db_settings, "cost") as again:
        assert again


def test_a_retraining_goes_ahead_when_postgresql_does_not_answer(db_settings, caplog):
    away = db_settings.model_copy(
        update={"database_url": f"postgresql://127.0.0.1:{free_port()}/x"}
    )
    with exclusive_retraining(away, "cost") as ours:
        assert ours
    assert "retraining without its lock" in caplog.text
