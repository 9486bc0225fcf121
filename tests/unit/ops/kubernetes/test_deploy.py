"""`aetheredge deploy --env`: the plan (render, validate, compare) offline, the dry run
end to end through the CLI, and the refusal to go on without a cluster."""

import copy

import pytest
import yaml
from typer.testing import CliRunner

from aetheredge.cli.main import app
from aetheredge.ops.kubernetes import deploy
from aetheredge.ops.kubernetes.manifests import ENVIRONMENTS
from tests.support.k8s import skip_without_checkov, skip_without_kubectl

skip_without_kubectl()


@pytest.mark.parametrize("helm", [False, True], ids=["kustomize", "helm"])
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_plans_valid(environment, helm):
    plan = deploy.plan(environment, helm=helm, checkov=False)
    assert plan.valid and plan.refusals() == []
    assert plan.namespace.startswith("aetheredge") and len(plan.objects) >= 25
    assert {c.action for c in plan.changes} == {"create"}
    (service,) = [o for o in plan.objects if o["kind"] == "RayService"]
    assert deploy.highlights(service).startswith("scorers ")


def test_changes_name_what_moves_and_show_the_lines():
    plan = deploy.plan("staging", checkov=False)
    previous = copy.deepcopy(plan.objects)
    service = next(o for o in previous if o["kind"] == "RayService")
    service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["maxReplicas"] = 99
    previous.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old"}})
    previous = [o for o in previous if (o["kind"], o["metadata"]["name"]) != ("PodMonitor", "ray")]
    found = {(c.action, c.kind, c.name): c for c in deploy.changes(previous, plan.objects)}
    assert ("delete", "ConfigMap", "old") in found
    assert ("create", "PodMonitor", "ray") in found
    update = found[("update", "RayService", "aetheredge")]
    assert "-      maxReplicas: 99" in update.diff and "+      maxReplicas: 4" in update.diff
    assert sum(c.action == "unchanged" for c in found.values()) == len(plan.objects) - 2


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_secrets_a_deployment_needs_are_named(environment):
    objects = deploy.plan(environment, checkov=False).objects
    assert deploy.secret_keys(objects) == {
        "aetheredge-secrets": {
            "api-keys",  # the scorers refuse to start without keys
            "database-url",
            "redis-url",
            "redis-password",
            "postgres-password",
            "mlflow-database-url",
        }
    }


def test_dumped_manifest_reads_back_the_same_and_keeps_blocks():
    plan = deploy.plan("production", checkov=False)
    text = deploy.dump(plan.objects)
    assert [o for o in yaml.safe_load_all(text) if o] == plan.objects
    assert "serveConfigV2: |" in text  # a literal block, diffable line by line


def test_dry_run_prints_the_plan_and_applies_nothing(tmp_path, monkeypatch):
    skip_without_checkov()
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-cluster"))
    previous = deploy.plan("production", checkov=False).objects
    previous[-1]["spec"]["upgradeStrategy"]["type"] = "None"
    (tmp_path / "previous.yaml").write_text(deploy.dump(previous))
    args = ["deploy", "--env", "production", "--dry-run", "--diff"]
    args += ["--previous", str(tmp_path / "previous.yaml"), "--output", str(tmp_path / "out.yaml")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "production -> namespace aetheredge (kustomize" in out
    assert f"1 update, {len(previous) - 1} unchanged" in out
    assert "-    type: None" in out and "+    type: NewCluster" in out
    assert "0 problem(s)" in out and "0 failed" in out
    assert "dry run: nothing was applied" in out
    assert "reads Secret aetheredge-secrets (create it first): api-keys, database-url," in out
    assert yaml.safe_load_all((tmp_path / "out.yaml").read_text())


def test_without_a_cluster_it_refuses_before_rendering(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-cluster"))
    result = CliRunner().invoke(app, ["deploy", "--env", "development"])
    assert result.exit_code == 1
    assert "no cluster answers" in result.output


def test_unknown_environment_is_a_usage_error():
    result = CliRunner().invoke(app, ["deploy", "--env", "qa", "--dry-run"])
    assert result.exit_code == 2 and "development" in result.output
