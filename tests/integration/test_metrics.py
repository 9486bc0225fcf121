"""The scoring path's metrics on Ray's real Prometheus endpoint, after real traffic."""

import time

import httpx
import numpy as np
import pytest
import ray
from prometheus_client.parser import text_string_to_metric_families

from aetheredge import kinds
from aetheredge.datasets.synthetic import telemetry
from aetheredge.ingest.telemetry import json_body
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS

pytestmark = pytest.mark.integration


def _samples(port: int) -> list:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


def _total(samples: list, name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_scoring_metrics_reach_prometheus_with_serve_tags(platform, service):
    settings, _ = platform
    port = ray._private.worker.global_worker.node.metrics_export_port
    before = _samples(port)  # earlier tests' traffic: what this one adds is the difference
    rows = telemetry(64, seed=21, start="2026-06-01")
    (answer,) = service.predict("anomaly", rows.to_dict("records"))
    flagged = sum(r["is_anomaly"] for r in answer["results"])
    X = rows[list(kinds.get("anomaly").input_names)].to_numpy(np.float32)
    infer = {"inputs": [{"name": "features", "datatype": "FP32", "shape": list(X.shape),
                         "data": X.ravel().tolist()}]}  # fmt: skip
    assert service.http.post("/v2/models/anomaly/infer", json=infer).status_code == 200
    assert service.http.post("/v1/anomaly/score", json={"rows": [{}]}).status_code == 422
    assert service.http.post("/v2/models/nope/infer", json=infer).status_code == 404
    fresh = rows[list(TELEMETRY_COLUMNS)].assign(
        entity_id=lambda f: "metrics-" + f.entity_id.astype(str)
    )
    ingested = service.ingest(json_body(fresh))
    served = service.health()["versions"]["anomaly"]

    requests, latency = "ray_aetheredge_requests_total", "ray_aetheredge_request_latency_seconds"
    grown = {  # (metric, labels): at least this much more than before
        (requests, ("anomaly", "v1", "200")): 1,
        (requests, ("anomaly", "v2", "200")): 1,
        (requests, ("anomaly", "v1", "422")): 1,
        (requests, ("unknown", "v2", "404")): 1,
        (f"{latency}_count", ("anomaly", "v1")): 2,
        ("ray_aetheredge_rows_scored_total", ("anomaly",)): 128,
        ("ray_aetheredge_anomalies_total", ("anomaly",)): max(flagged, 0),
        ("ray_aetheredge_batch_rows_count", ("anomaly",)): 1,
        ("ray_aetheredge_ingest_rows_total", ("accepted",)): ingested["accepted"],
    }
    keys = {
        requests: ("model", "api", "code"),
        f"{latency}_count": ("model", "api"),
        "ray_aetheredge_ingest_rows_total": ("outcome",),
    }

    def short(samples: list) -> list[str]:
        missing = []
        for (name, values), wanted in grown.items():
            labels = dict(zip(keys.get(name, ("model",)), values, strict=True))
            if _total(samples, name, **labels) - _total(before, name, **labels) < wanted:
                missing.append(f"{name}{labels} +{wanted}")
        version = "ray_aetheredge_model_version_info"
        if _total(samples, version, model="anomaly", version=served) < 1:
            missing.append(f"{version}{{model=anomaly, version={served}}} = 1")
        return missing

    deadline = time.monotonic() + 60
    while missing := short(samples := _samples(port)):
        assert time.monotonic() < deadline, f"never reached Prometheus: {missing}"
        time.sleep(2)
    assert ingested["accepted"] == len(fresh)
    # ray.serve.metrics tags every series with where it came from
    sample = next(
        s
        for s in samples
        if s.name == requests and s.labels.get("code") == "422" and s.labels["api"] == "v1"
    )
    assert sample.labels["application"] == settings.serve_app_name
    assert sample.labels["deployment"] == "Scorer" and sample.labels["replica"]


def test_a_failed_retraining_is_counted(platform, tmp_path):
    from jobs import retrain

    missing = tmp_path / "no-such-usage.parquet"
    assert retrain.main(["--model", "cost", "--source", str(missing), "--linger", "0"]) == 1
    port = ray._private.worker.global_worker.node.metrics_export_port
    labels = {"job": "retrain", "model": "cost", "outcome": "failed"}
    deadline = time.monotonic() + 60
    while _total(_samples(port), "ray_aetheredge_jobs_total", **labels) < 1:
        assert time.monotonic() < deadline, "the retraining outcome never reached Prometheus"
        time.sleep(2)
