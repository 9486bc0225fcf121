"""The Grafana dashboard and the Prometheus alerts: each query parses as PromQL, and
each metric it reads is one the platform defines; both ship in every overlay."""

import json
import re
from pathlib import Path

import promql_parser
import pytest

from aetheredge.ops.kubernetes.manifests import ENVIRONMENTS, KUBERAY, render
from tests.support.k8s import skip_without_kubectl

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = KUBERAY / "base" / "dashboards" / "aetheredge.json"
GRAFANA_MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}

skip_without_kubectl()


def _defined_metrics() -> set[str]:
    """Every metric name the code gives Ray (``"aetheredge_..."`` literals)."""
    names = set()
    for folder in ("aetheredge", "serve", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r'"(aetheredge_[a-z_]+)"', path.read_text()))
    return names


def _read(expr: str) -> set[str]:
    """The platform metrics ``expr`` reads, by the name the code gives them."""
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    promql_parser.parse(expr)  # raises ValueError, naming the fault
    found = set(re.findall(r"\bray_(aetheredge_[a-z_]+)", expr))
    return {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in found}


def _rules() -> list[dict]:
    objects = render(KUBERAY / "overlays" / "production")
    (rule,) = [o for o in objects if o["kind"] == "PrometheusRule"]
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def test_alerts_cover_the_failures_users_page_on():
    alerts = {r["alert"] for r in _rules()}
    assert {
        "AetherEdgeHighErrorRate",
        "AetherEdgeLatencyOverSLO",
        "AetherEdgeDrift",
        "AetherEdgePredictionLogBacklogGrowing",
        "AetherEdgeRetrainFailed",
        "AetherEdgeGcsRedisNearlyFull",
        "AetherEdgeFeaturesRedisEvicting",
    } <= alerts


def test_every_query_parses_and_reads_defined_metrics():
    defined = _defined_metrics()
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [r["expr"] for r in _rules()]
    read = set()
    for query in queries:
        read |= _read(query)
    assert read and read <= defined, read - defined
    # the dashboard shows what the issue asks for
    assert {"aetheredge_requests", "aetheredge_request_latency_seconds", "aetheredge_anomalies",
            "aetheredge_model_version_info", "aetheredge_drift_psi",
            "aetheredge_prediction_log_backlog_rows"} <= read  # fmt: skip


def test_a_broken_query_is_caught():
    with pytest.raises(ValueError):
        _read("sum(rate(ray_aetheredge_requests_total[5m])")


def test_dashboard_is_well_formed_for_grafana():
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    assert dashboard["templating"]["list"][0]["type"] == "datasource"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_overlay_ships_the_dashboard_and_the_alerts(environment):
    objects = render(KUBERAY / "overlays" / environment)
    (config,) = [o for o in objects if o["metadata"]["name"] == "aetheredge-grafana-dashboard"]
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config["data"]["aetheredge.json"]) == json.loads(DASHBOARD.read_text())
    assert [o for o in objects if o["kind"] == "PrometheusRule"]
