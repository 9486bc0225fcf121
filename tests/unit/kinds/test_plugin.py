"""A third model kind is one module: the toy ``latency`` kind, added beside the two real
ones, is trained, gated, compiled, registered, served on ``/v1`` and V2, mounted by the
Serve app, scheduled and drift-checked, with no other file changed
(``tests/support/plugins/kinds/latency.py``, run by ``tests/support/plugins/scenario.py``
in a fresh interpreter so that it is found as the package's own modules are)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("plugin-home")
    env = os.environ | {"AETHER_HOME": str(home)}
    env.pop("AETHER_MLFLOW_TRACKING_URI", None)
    run = subprocess.run(
        [sys.executable, "-m", "tests.support.plugins.scenario"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])


def test_the_module_is_found_beside_the_built_in_kinds(outcome):
    assert outcome["kinds"] == ["anomaly", "cost", "latency"]


def test_it_trains_compiles_and_is_gated_on_its_own_metrics(outcome):
    assert outcome["metrics"]["mape"] < 0.2
    assert outcome["compiled"] and outcome["engine"] == "onnxruntime"
    # a 3-tree challenger against the 20-tree champion, on the kind's gates
    assert outcome["decision"] == {"promoted": False, "gates": ["mae", "mape"]}
    assert outcome["card"]["name"] == "aetheredge-latency"


def test_it_is_served_on_v1_and_v2_alike(outcome):
    v1, v2 = outcome["v1"], outcome["v2"]
    assert v1["model"] == "latency" and list(v1["results"][0]) == ["latency_ms"]
    assert "threshold" not in v1 and "degraded" not in v1
    assert v2["outputs"][0]["name"] == "latency_ms"
    assert v2["outputs"][0]["data"][0] == pytest.approx(v1["results"][0]["latency_ms"], rel=1e-6)
    assert outcome["v1_refused"] == [422, ["body", "rows", 0, "tier"]]
    meta = outcome["metadata"]
    assert meta["inputs"][0]["shape"] == [-1, 5]
    assert [(o["name"], o["datatype"]) for o in meta["outputs"]] == [("latency_ms", "FP64")]


def test_the_serve_app_jobs_and_schedule_take_it_up(outcome):
    schema = outcome["openapi_request"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/LatencyRequest"}
    assert outcome["openapi_summary"] == "Predicted p99 latency (ms) for load rows"
    assert outcome["fast_routes"] == ["/v1/latency/predict", "/v2/models/latency/infer"]
    assert outcome["retrain_args"] == "latency"
    assert outcome["scheduled"] == ["drift latency", "retrain latency"]


def test_its_drift_is_measured_on_its_own_inputs(outcome):
    assert "request_rate" in outcome["drifted"] and "cpus" not in outcome["drifted"]
