"""The whole loop on real Ray: Ray Train -> MLflow -> Serve HTTP -> Ray job -> new champion."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from aetheredge import kinds
from aetheredge.artifacts.registry import Registry
from aetheredge.cli.main import app
from aetheredge.datasets.bills import cost_rows
from aetheredge.datasets.frames import holdout_mask, load_frame
from aetheredge.datasets.synthetic import telemetry
from aetheredge.ops.deployment import deploy
from aetheredge.ops.ray_jobs import job_result, retrain_command, submit_and_wait
from tests.support.rows import GOOD_METRICS, GOOD_USAGE
from train.pipeline import retrain
from train.runs import Run

pytestmark = pytest.mark.integration


def test_first_versions_train_on_two_workers_and_become_champions(platform, first_versions):
    registry = Registry(platform[0])
    for kind, result in first_versions.items():
        assert result.fit.workers == 2 and result.promoted and result.previous_champion is None
        assert registry.champion(kind).version == result.candidate.version == "1"
        assert len(registry.load(kind).model.forest_.estimators_) == 20
    assert first_versions["anomaly"].metrics["roc_auc"] > 0.85
    assert first_versions["cost"].metrics["mape"] < 0.25


def test_scores_over_http(service):
    fleet = load_frame("anomaly", rows=20_000, seed=0)
    fleet = fleet[holdout_mask(fleet)]  # the hold-out window of the training data
    body = next(service.predict("anomaly", fleet.to_dict("records")))
    assert body["model"] == "anomaly" and body["version"] == "1"
    scores = [r["score"] for r in body["results"]]
    assert len(scores) == len(fleet)
    flagged = [r["is_anomaly"] for r in body["results"]]
    labelled = fleet.is_anomaly.to_numpy()
    # Flags land far more often on injected incidents than on ordinary rows.
    hit_rate = sum(f for f, y in zip(flagged, labelled, strict=True) if y) / labelled.sum()
    false_rate = sum(f for f, y in zip(flagged, labelled, strict=True) if not y) / (~labelled).sum()
    assert hit_rate > 5 * false_rate
    usage = cost_rows(50, seed=7)
    cost = next(service.predict("cost", usage.to_dict("records")))
    assert cost["version"] == "1" and len(cost["results"]) == 50
    assert all(r["cost"] >= 0 for r in cost["results"])


def test_models_and_health(service):
    cards = {c["kind"]: c for c in service.models()}
    assert set(cards) == {"anomaly", "cost"}
    assert cards["anomaly"]["name"].endswith("-anomaly") and "f1" in cards["anomaly"]["metrics"]
    assert service.health() == {"status": "ok", "versions": {"anomaly": "1", "cost": "1"}}


BAD_REQUESTS = [
    ("/v1/anomaly/score", b'{"rows": [{"cpu_util": NaN}]}', "cpu_util"),
    ("/v1/anomaly/score", b'{"rows": []}', "rows"),
    ("/v1/anomaly/score", b'{"rows": "nope"}', "rows"),
    ("/v1/anomaly/score", b"not json", "json"),
    ("/v1/cost/predict", b'{"rows": [{"vcpu_hours": "lots"}]}', "vcpu_hours"),
]


@pytest.mark.parametrize(("path", "content", "field"), BAD_REQUESTS)
def test_malformed_bodies_get_422_naming_the_field(service, path, content, field):
    response = service.http.post(
        path, content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert field in response.text


@pytest.mark.parametrize(
    ("path", "row", "field"),
    [
        ("/v1/anomaly/score", GOOD_METRICS | {"cpu_util": 7.0}, "cpu_util"),
        ("/v1/anomaly/score", GOOD_METRICS | {"surprise": 1}, "surprise"),
        (
            "/v1/anomaly/score",
            {k: v for k, v in GOOD_METRICS.items() if k != "error_rate"},
            "error_rate",
        ),
        ("/v1/cost/predict", GOOD_USAGE | {"pricing_category": "free"}, "pricing_category"),
        ("/v1/cost/predict", GOOD_USAGE | {"egress_gib": 1e300}, "egress_gib"),
    ],
)
def test_invalid_rows_get_422_naming_the_field(service, path, row, field):
    response = service.http.post(path, json={"rows": [row]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(field in map(str, d["loc"]) for d in detail)


def test_oversized_batch_and_unknown_route_are_4xx(service):
    too_many = {"rows": [GOOD_METRICS] * 10_001}
    assert service.http.post("/v1/anomaly/score", json=too_many).status_code == 422
    assert service.http.post("/v1/nosuch/score", json={"rows": []}).status_code == 404


def test_retrain_job_promotes_and_the_service_swaps_version(platform, service):
    settings, dashboard = platform
    argv = retrain_command("cost", source="synthetic", rows=60_000, seed=1, n_estimators=30)
    _, status, logs = submit_and_wait(settings, dashboard, argv)
    assert status == "SUCCEEDED", logs[-3000:]
    summary = job_result(logs)
    assert summary["promoted"] and summary["version"] == "2"
    assert summary["metrics"]["mae"] < summary["champion_metrics_same_holdout"]["mae"]
    served = deploy(settings, dashboard, {"anomaly": "1", "cost": "2"})
    assert served == {"anomaly": "1", "cost": "2"}
    body = next(service.predict("cost", cost_rows(5, seed=3).to_dict("records")))
    assert body["version"] == "2"


def test_worse_challenger_is_registered_but_not_promoted(platform, first_versions):
    settings, _ = platform
    registry = Registry(settings)
    before = registry.champion("cost").version
    # One stump: worse on any hold-out than a forest, even one fitted on another fleet.
    params = {"n_estimators": 1, "max_depth": 1}
    result = retrain("cost", rows=3_000, seed=5, workers=1, params=params, settings=settings)
    assert not result.promoted
    assert result.metrics["mae"] >= result.champion_metrics["mae"]
    assert registry.champion("cost").version == before
    run = registry.client.get_run(result.candidate.run_id)
    assert run.data.tags["aetheredge.decision"] == "rejected"
    assert "champion_holdout_mae" in run.data.metrics


def test_a_registered_version_stays_when_its_checkpoints_cannot_be_deleted(
    platform, first_versions, monkeypatch: pytest.MonkeyPatch
):
    def read_only(run: Run) -> None:
        raise PermissionError(f"read-only storage: {run.name}")

    monkeypatch.setattr(Run, "finish", read_only)
    lines: list[str] = []
    result = retrain(
        "cost",
        rows=3_000,
        seed=6,
        workers=1,
        params={"n_estimators": 1},
        settings=platform[0],
        report=lines.append,
    )
    registry = Registry(platform[0])
    registered = registry.client.get_model_version(registry.name("cost"), result.candidate.version)
    assert registered.run_id == result.candidate.run_id
    assert any("checkpoints stay in the training storage: read-only" in line for line in lines)


def test_failed_job_exits_nonzero_and_leaves_the_champion(platform, first_versions):
    settings, dashboard = platform
    registry = Registry(settings)
    before = {k: registry.champion(k).version for k in kinds.names()}
    argv = retrain_command("anomaly", rows=1000, source="/nonexistent/telemetry.parquet")
    _, status, logs = submit_and_wait(settings, dashboard, argv)
    assert status == "FAILED"
    assert "retrain failed: DataError" in logs
    assert {k: registry.champion(k).version for k in kinds.names()} == before


def test_openapi_document_lists_the_typed_routes(service):
    doc = service.http.get("/openapi.json").json()
    assert {"/v1/anomaly/score", "/v1/cost/predict", "/v1/models", "/healthz"} <= set(doc["paths"])
    row = doc["components"]["schemas"]["AnomalyRow"]
    assert row["properties"]["cpu_util"]["maximum"] == 1.0
    assert row["additionalProperties"] is False


def test_cli_scores_a_csv_file(service, tmp_path):
    rows = tmp_path / "telemetry.csv"
    telemetry(300, seed=3).to_csv(rows, index=False)  # extra label columns are dropped
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        app, ["score", str(rows), "--model", "anomaly", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "anomaly v" in result.output
    scores = pd.read_csv(out)
    assert len(scores) == 300 and list(scores.columns) == ["entity_id", "score", "is_anomaly"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": [{"cpu_util": 2}]}')
    result = CliRunner().invoke(app, ["score", str(bad), "--model", "anomaly"])
    assert result.exit_code == 1 and "422" in result.output
