"""The Helm chart (helm/aetheredge), rendered with helm-python-sdk (no helm binary) for
every values profile: the same objects as the Kustomize overlay of that name, the same
offline validation, and values.schema.json refusing bad values with the reason."""

import copy
import json

import helm_python
import pytest
import yaml

from aetheredge.ops.deployment import kubernetes_serve_config
from aetheredge.ops.kubernetes.manifests import (
    CHART,
    ENVIRONMENTS,
    KUBERAY,
    chart_values,
    namespace,
    problems,
    render,
    render_chart,
    retrain_job,
)
from aetheredge.ops.kubernetes.serve_config import declared
from aetheredge.settings import Settings
from tests.support.k8s import skip_without_kubectl

skip_without_kubectl()

HELM_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "helm.sh/chart")


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def profile(request) -> tuple[str, list[dict]]:
    env = request.param
    return env, render_chart(chart_values(env), namespace(env))


def _comparable(objects: list[dict]) -> dict[tuple[str, str], dict]:
    """Objects by (kind, name), without Helm's bookkeeping labels; a generated job file
    compared by what it creates."""
    out = {}
    for obj in copy.deepcopy(objects):
        for label in HELM_LABELS:
            obj["metadata"].get("labels", {}).pop(label, None)
        if "rayjob.yaml" in obj.get("data", {}):
            created = yaml.safe_load(obj["data"]["rayjob.yaml"])
            obj["data"]["rayjob.yaml"] = {"kind": created["kind"], "spec": created["spec"]}
        out[(obj["kind"], obj["metadata"]["name"])] = obj
    return out


def test_each_profile_renders_what_its_overlay_renders(profile):
    env, objects = profile
    chart, overlay = _comparable(objects), _comparable(render(KUBERAY / "overlays" / env))
    assert sorted(chart) == sorted(overlay)
    for key in overlay:
        assert chart[key] == overlay[key], key


def test_each_profile_passes_every_offline_check(profile, manifest_scans):
    env, objects = profile
    assert [str(p) for p in problems(objects)] == []
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    result = manifest_scans[f"helm-{env}"]
    assert [str(p) for p in result.failed] == []
    assert len(result.skipped) >= 3
    assert all(len(reason) > 40 for reason in result.skipped.values())


def test_values_reach_the_objects():
    digest = "sha256:" + "ab" * 32
    values = chart_values(
        "staging",
        {
            "secrets": {"name": "edge-credentials"},
            "images": [{"name": "ghcr.io/aetheredge/aetheredge", "digest": digest}],
            "settings": {
                "AETHER_RETRAIN_SCHEDULE": "15 2 * * 1",
                "AETHER_DRIFT_SCHEDULE": "5 * * * *",
                "AETHER_MODEL_POLL_S": 5,
                "AETHER_SERVE_MAX_REPLICAS": 6,
            },
            "retraining": {"scheduler": "CronJob", "trainers": 3},
        },
    )
    objects = render_chart(values, "edge")
    assert [str(p) for p in problems(objects)] == []
    text = yaml.safe_dump_all(objects)
    assert "aetheredge-secrets" not in text and "edge-credentials" in text
    assert "ghcr.io/aetheredge/aetheredge:0.1.0" not in text
    assert f"ghcr.io/aetheredge/aetheredge@{digest}" in text
    assert "image: postgres:15-alpine" in text  # other images untouched
    assert not [o for o in objects if o["kind"] == "RayCronJob"]
    crons = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "CronJob"}
    assert crons["aetheredge-retrain"]["schedule"] == "15 2 * * 1"
    assert crons["aetheredge-drift"]["schedule"] == "5 * * * *"
    (service,) = [o for o in objects if o["kind"] == "RayService"]
    assert "      max_replicas: 6\n" in service["spec"]["serveConfigV2"]
    job = retrain_job(objects)["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]
    assert (job["replicas"], job["minReplicas"], job["maxReplicas"]) == (3, 3, 3)
    settings = next(o for o in objects if o["metadata"]["name"] == "aetheredge-settings")
    assert settings["data"]["AETHER_MODEL_POLL_S"] == "5"
    assert {o["metadata"]["namespace"] for o in objects} == {"edge"}


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"serving": {"scorers": {"minReplicas": "three"}}}, "got string, want integer"),
        ({"replicas": 3}, "additional properties 'replicas' not allowed"),
        ({"serving": {"upgradeStrategy": "Rolling"}}, "upgradeStrategy"),
        ({"secrets": {"name": ""}}, "/secrets/name"),
        ({"settings": {"AETHER_DATABASE_URL": "postgresql://u:p@db/x"}}, "AETHER_DATABASE_URL"),
        ({"settings": {"database_url": "x"}}, "database_url"),
        ({"images": [{"name": "ghcr.io/aetheredge/aetheredge", "digest": "latest"}]}, "digest"),
        ({"ingress": {"host": "Not A Host"}}, "/ingress/host"),
    ],
)
def test_schema_refuses_bad_values_with_the_reason(extra, says):
    with pytest.raises(helm_python.HelmValuesError, match=says):
        render_chart(chart_values("production", extra), "aetheredge")


def test_rendered_bounds_the_schema_cannot_compare_are_still_refused():
    values = chart_values("production", {"serving": {"scorers": {"maxReplicas": 2}}})
    found = [str(p) for p in problems(render_chart(values, "aetheredge"))]
    assert any("minReplicas" in p and "maxReplicas" in p for p in found), found


def _shapes_the_serve_config(name: str, base: dict[str, str]) -> bool:
    """Whether setting ``name`` to another valid value changes the generated serveConfigV2."""
    value = getattr(declared(base), name)
    if value is None:  # an optional bound, unset: small and large, as settings relate
        others: list[object] = [1, 100]
    elif isinstance(value, bool):
        others = [not value]
    elif isinstance(value, int | float):
        others = [value + 1]
    else:
        others = ["10.0.0.1" if name == "serve_host" else f"{value}x"]
    for other in others:
        try:
            changed = declared(base | {f"AETHER_{name.upper()}": str(other)})
        except ValueError:  # not a valid value of this setting
            continue
        try:
            config = kubernetes_serve_config(changed)
        except ValueError:  # the manifests refuse it, so the chart must too
            return True
        if config != kubernetes_serve_config(declared(base)):
            return True
    return False


def test_the_chart_takes_the_serve_settings_it_can_carry_and_refuses_the_others():
    """The chart cannot run the generator: of the settings that shape serveConfigV2 it
    applies the replica bounds itself and refuses every other, saying where to change it."""
    base = yaml.safe_load((KUBERAY / "base" / "settings.yaml").read_text())["data"]
    shaping = {
        f"AETHER_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if field.annotation in (bool, int, float, str, int | None, float | None)
        and _shapes_the_serve_config(name, base)
    }
    bounds = {"AETHER_SERVE_MIN_REPLICAS", "AETHER_SERVE_MAX_REPLICAS"}
    assert bounds < shaping
    schema = json.loads((CHART / "values.schema.json").read_text())
    declared_settings = schema["properties"]["settings"]["properties"]
    refused = {
        k for k, v in declared_settings.items() if "make manifests" in v.get("description", "")
    }
    assert refused == shaping - bounds
    for name in sorted(refused)[:2]:
        with pytest.raises(helm_python.HelmValuesError, match=name):
            render_chart(chart_values("production", {"settings": {name: "1"}}), "aetheredge")


def test_chart_lints_and_ships_notes():
    findings = helm_python.lint(str(CHART))
    assert findings["errors"] == []
    assert [m for m in findings["messages"] if m["severity"] >= 2] == []  # warning, error
    assert (CHART / "templates" / "NOTES.txt").is_file()
