"""The kuberay/ overlays, rendered with `kubectl kustomize` and validated offline:
KubeRay CRD schemas, operator rules, Ray's Serve config schema, Kubernetes API schemas."""

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from aetheredge.ops.cluster import haproxy_defaults
from aetheredge.ops.deployment import HEALTH_CHECK_PERIOD_S, kubernetes_serve_config
from aetheredge.ops.entrypoints import DRIFT_JOB, RETRAIN_JOB
from aetheredge.ops.kubernetes.manifests import ENVIRONMENTS, KUBERAY, problems, render, retrain_job
from aetheredge.ops.kubernetes.scan import Scan, scan
from aetheredge.ops.kubernetes.serve_config import declared, generated, settings_of
from aetheredge.settings import Settings
from aetheredge.settings.sources import DEFAULT_SECRETS_DIR as SECRETS_DIR
from jobs import drift, retrain
from tests.support.k8s import skip_without_checkov, skip_without_kubectl

skip_without_kubectl()


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render(KUBERAY / "overlays" / request.param)


def _one(objects: list[dict], kind: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def _pods(obj: dict) -> list[dict]:
    """Every pod spec inside ``obj`` (Ray groups, submitter, workload templates)."""
    spec = obj.get("spec", {})
    clusters = [spec.get("rayClusterConfig"), spec.get("rayClusterSpec")]
    template = spec.get("jobTemplate") or {}
    clusters.append(template.get("rayClusterSpec"))  # a RayCronJob's
    pods = [spec.get("template", {}).get("spec")]
    pods.append(template.get("spec", {}).get("template", {}).get("spec"))  # a CronJob's
    pods.append((spec.get("submitterPodTemplate") or {}).get("spec"))
    for cluster in filter(None, clusters):
        groups = [cluster["headGroupSpec"], *cluster.get("workerGroupSpecs", [])]
        pods += [g["template"]["spec"] for g in groups]
    return [p for p in pods if p]


def test_every_overlay_renders_valid_objects(rendered):
    _, objects = rendered
    kinds = [o["kind"] for o in objects]
    assert set(kinds) >= {
        "RayService",
        "StatefulSet",
        "NetworkPolicy",
        "Ingress",
        "PodMonitor",
    }
    assert kinds.count("RayCronJob") + kinds.count("CronJob") == 2  # retraining, drift
    assert all(o["metadata"]["namespace"].startswith("aetheredge") for o in objects)
    assert [str(p) for p in problems(objects)] == []


def test_pods_run_locked_down(rendered):
    _, objects = rendered
    pods = [p for o in [*objects, retrain_job(objects)] for p in _pods(o)]
    assert len(pods) >= 9
    service_head = _one(objects, "RayService")["spec"]["rayClusterConfig"]["headGroupSpec"]
    api_users = [service_head["template"]["spec"]]  # the autoscaler scales worker pods
    api_users += [p for p in pods if p.get("serviceAccountName") == "aetheredge-scheduler"]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        # only pods that use the Kubernetes API get a service-account token
        assert pod["automountServiceAccountToken"] is any(pod is p for p in api_users)
        for container in [*pod["containers"], *pod.get("initContainers", [])]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["limits"]["memory"]
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            writes_no_temp = ("redis", "mlflow", "exporter", "config")
            assert "/tmp" in mounts or container["name"] in writes_no_temp, container


def test_secrets_are_files_never_inlined_nor_in_the_environment(rendered):
    _, objects = rendered
    assert not [o for o in objects if o["kind"] == "Secret"]
    for pod in (p for o in [*objects, retrain_job(objects)] for p in _pods(o)):
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            for variable in container.get("env", []):
                assert "secretKeyRef" not in variable.get("valueFrom", {}), variable
                if any(w in variable["name"] for w in ("PASSWORD", "DATABASE_URL", "REDIS_URL")):
                    assert variable["value"].startswith(SECRETS_DIR), variable  # a *_FILE
            for mount in container.get("volumeMounts", []):
                secret = volumes.get(mount["name"], {}).get("secret")  # not a claim
                if secret:
                    assert secret["secretName"] == "aetheredge-secrets"
                    assert mount["mountPath"] == SECRETS_DIR and mount["readOnly"] is True
                    assert secret["defaultMode"] == 0o440


def test_ray_pods_read_their_urls_from_the_secret_files(rendered, tmp_path, monkeypatch):
    """The file names the Ray pods mount are the ones Settings reads."""
    _, objects = rendered
    service = _one(objects, "RayService")
    for pod in _pods(service):
        (secret,) = [v["secret"] for v in pod["volumes"] if "secret" in v]
        for item in secret["items"]:
            (tmp_path / item["path"]).write_text(f"{item['key']}://from-the-file")
    keys = [{"name": "ops", "sha256": "0" * 64, "scopes": ["admin"]}]
    (tmp_path / "AETHER_API_KEYS").write_text(json.dumps(keys))
    monkeypatch.setenv("AETHER_SECRETS_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == "database-url://from-the-file"
    assert settings.redis_url == "redis-url://from-the-file"
    assert [k.name for k in settings.api_keys] == ["ops"]
    assert "AETHER_DATABASE_URL" not in settings.child_env()  # a job reads the same file


def test_serving_shape(rendered):
    _, objects = rendered
    service = _one(objects, "RayService")
    cluster = service["spec"]["rayClusterConfig"]
    assert service["spec"]["excludeHeadPodFromServeSvc"] is True
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    assert cluster["enableInTreeAutoscaling"] is True and cluster["authOptions"]["mode"] == "token"
    assert cluster["gcsFaultToleranceOptions"]["redisPassword"]["valueFrom"]
    settings = next(o for o in objects if o["metadata"]["name"] == "aetheredge-settings")
    home = settings["data"]["AETHER_HOME"]
    for pod in _pods(service):
        ray = pod["containers"][0]
        env = {e["name"]: e.get("value") for e in ray["env"]}
        assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
        assert env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1"
        # as `make up` runs it, for the settings these pods read
        assert env["RAY_SERVE_HAPROXY_RETRY_ON"] == haproxy_defaults(settings_of(objects))
        assert home in {m["mountPath"] for m in ray["volumeMounts"]}  # the spill file's dir
        assert ray["readinessProbe"] and ray["livenessProbe"]
        assert ray["lifecycle"]["preStop"]["exec"]["command"] == ["ray", "stop"]
    config = yaml.safe_load(service["spec"]["serveConfigV2"])
    (deployment,) = config["applications"][0]["deployments"]
    assert deployment["user_config"]["versions"] == {"anomaly": None, "cost": None}
    assert deployment["health_check_period_s"] == HEALTH_CHECK_PERIOD_S


def test_serve_config_is_what_the_code_builds_from_the_settings(rendered):
    """Every option in serveConfigV2 comes from aetheredge/ops/deployment.py and the
    settings the pods read: no hand-kept copy can drift from them."""
    _, objects = rendered
    config = yaml.safe_load(_one(objects, "RayService")["spec"]["serveConfigV2"])
    assert config == kubernetes_serve_config(settings_of(objects))


def test_generated_manifests_are_current():
    stale = [str(p) for p, text in generated().items() if p.read_text() != text]
    assert stale == [], "run `make manifests`"


def test_scorer_replicas_fit_the_worker_pods(rendered):
    """Serve never asks for more replicas than the scorer pods can hold, and every scorer
    pod the autoscaler keeps can take a replica."""
    _, objects = rendered
    service = _one(objects, "RayService")
    (deployment,) = yaml.safe_load(service["spec"]["serveConfigV2"])["applications"][0][
        "deployments"
    ]
    bounds = deployment["autoscaling_config"]
    cpus = deployment["ray_actor_options"]["num_cpus"]
    group = service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
    pod_cpus = float(group["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"])
    assert bounds["max_replicas"] * cpus <= group["maxReplicas"] * pod_cpus
    assert bounds["min_replicas"] >= group["minReplicas"] >= 1


def test_redis_keeps_an_append_only_file():
    objects = render(KUBERAY / "overlays" / "production")
    redis = next(
        o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "redis"
    )
    command = " ".join(redis["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "--appendonly yes --appendfsync everysec --dir /data" in command
    assert redis["spec"]["volumeClaimTemplates"]


def test_each_redis_has_its_eviction_policy_and_an_exporter_prometheus_reaches(rendered):
    _, objects = rendered
    policies = {"redis": "volatile-lru", "redis-gcs": "noeviction"}
    (monitor,) = [
        o for o in objects if o["kind"] == "PodMonitor" and "redis" in o["metadata"]["name"]
    ]
    (selected,) = monitor["spec"]["selector"]["matchExpressions"]
    (policy,) = [o for o in objects if o["metadata"]["name"] == "redis-metrics-from-monitoring"]
    assert (
        set(selected["values"])
        == set(policies)
        == set(policy["spec"]["podSelector"]["matchExpressions"][0]["values"])
    )
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 9121}]
    for name, eviction in policies.items():
        (redis,) = [
            o for o in objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == name
        ]
        pod = redis["spec"]["template"]["spec"]
        server, exporter = pod["containers"]
        assert server["args"][-2:] == ["--maxmemory-policy", eviction]
        assert "@sha256:" in exporter["image"] and exporter["ports"][0]["containerPort"] == 9121
        assert "--redis.password-file=/conf/exporter.json" in exporter["args"]
        assert "env" not in exporter  # the password is a file the init container wrote
        (config,) = pod["initContainers"]
        assert "/conf/exporter.json" in config["args"][0]


def test_the_scheduler_runs_a_maintained_kubectl_pinned_by_digest(production):
    for cron in (o for o in production if o["kind"] == "CronJob"):
        (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        image, digest = container["image"].split("@sha256:")
        assert image.startswith("registry.k8s.io/kubectl:v1.") and len(digest) == 64
        assert "checkov.io/skip2" not in cron["metadata"].get("annotations", {})


SCHEDULES = {
    "aetheredge-retrain": "AETHER_RETRAIN_SCHEDULE",
    "aetheredge-drift": "AETHER_DRIFT_SCHEDULE",
}


def _created_by(cron: dict, objects: list[dict], tmp_path: Path) -> dict:
    """The RayJob a plain CronJob creates: its own script, run by sh with the pod's
    environment and its ConfigMaps as files, up to the pipe into ``kubectl create``."""
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (script,) = container["args"]
    script, pipe = script.rsplit(" | ", 1)
    assert pipe == "kubectl create -f -"
    by_name = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    for volume in (v for v in pod["volumes"] if "configMap" in v):
        mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
        for key, text in by_name[volume["configMap"]["name"]]["data"].items():
            (tmp_path / key).write_text(text)
            script = script.replace(f"{mount['mountPath']}/{key}", str(tmp_path / key))
    env = {"PATH": os.environ["PATH"]}
    for var in container["env"]:
        if "value" in var:
            env[var["name"]] = var["value"]
        elif ref := var["valueFrom"].get("configMapKeyRef"):
            data = by_name[ref["name"]]["data"]
            assert ref["key"] in data or ref.get("optional")
            env |= {var["name"]: data[ref["key"]]} if ref["key"] in data else {}
    out = subprocess.run(
        [*container["command"], script], env=env, capture_output=True, text=True, check=True
    )
    return yaml.safe_load(out.stdout)


def _scheduled(objects: list[dict], tmp_path: Path) -> dict[str, tuple[str, dict]]:
    """Each schedule's cron expression and the RayJob spec it starts, whichever of
    RayCronJob and plain CronJob runs it."""
    found = {}
    for cron in (o for o in objects if o["kind"] == "RayCronJob"):
        found[cron["metadata"]["name"]] = (cron["spec"]["schedule"], cron["spec"]["jobTemplate"])
    for plain in (o for o in objects if o["kind"] == "CronJob"):
        name = plain["metadata"]["name"]
        created = _created_by(plain, objects, tmp_path)
        assert created["kind"] == "RayJob"
        assert created["metadata"] == {"generateName": f"{name}-"}  # named for its schedule
        found[name] = (plain["spec"]["schedule"], created["spec"])
    return found


def _as_submitted(entrypoint: str, rayjob: str) -> list[str]:
    """``entrypoint`` as KubeRay's submitter runs it: the words of a bash command line,
    with the submitter pod's environment expanded (the RayJob's name, from the label
    Kubernetes puts on the pods of the submitter Job KubeRay names after it)."""
    env = {"PATH": os.environ["PATH"], "AETHER_RUN_NAME": rayjob}
    words = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {entrypoint}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return words.stdout.split("\0")[:-1]


def test_both_models_are_retrained_and_checked_on_the_settings_schedules(rendered, tmp_path):
    """Retraining and drift checks, each of every model, on the settings' cron: each
    job is the shipped RayJob template (never applied itself: it would retrain at every
    install), and what each runs parses with its job's own command line, under the
    RayJob's name as its run name, which a retry of the RayJob keeps."""
    _, objects = rendered
    assert not [o for o in objects if o["kind"] == "RayJob"]
    template = retrain_job(objects)
    assert [str(p) for p in problems([template])] == []
    (submitter,) = template["spec"]["submitterPodTemplate"]["spec"]["containers"]
    (named,) = [e for e in submitter["env"] if e["name"] == "AETHER_RUN_NAME"]
    label = named["valueFrom"]["fieldRef"]["fieldPath"]
    assert label == "metadata.labels['batch.kubernetes.io/job-name']"
    settings = next(o for o in objects if o["metadata"]["name"] == "aetheredge-settings")["data"]
    scheduled = _scheduled(objects, tmp_path)
    assert sorted(scheduled) == sorted(SCHEDULES)
    for name, (schedule, spec) in scheduled.items():
        assert schedule == settings[SCHEDULES[name]]
        assert {k: v for k, v in spec.items() if k != "entrypoint"} == {
            k: v for k, v in template["spec"].items() if k != "entrypoint"
        }
    retrain_argv = _as_submitted(scheduled["aetheredge-retrain"][1]["entrypoint"], "nightly-x1")
    assert retrain_argv[:3] == ["python", "-m", RETRAIN_JOB]
    args = retrain.parse_args(retrain_argv[3:])
    assert args.model == "all" and args.source is None and args.rows is None  # the policy's
    assert args.run_name == "nightly-x1"
    drift_argv = _as_submitted(scheduled["aetheredge-drift"][1]["entrypoint"], "drift-x2")
    assert drift_argv[:3] == ["python", "-m", DRIFT_JOB]
    checks = drift.parse_args(drift_argv[3:])
    assert checks.model == "all" and checks.retrain_here  # the RayJob's cluster ends with it
    assert checks.run_name == "drift-x2"
    policy = declared(settings)
    assert (policy.retrain_source, policy.retrain_days) == ("postgres", 7.0)


def test_retraining_nodes_share_their_training_storage_and_log_through_mlflow(rendered):
    """Every node of a retraining job mounts one ReadWriteMany claim where
    AETHER_TRAIN_STORAGE points, and MLflow is the tracking server (so artifacts go
    through it, not to a pod's disk)."""
    _, objects = rendered
    settings = settings_of(objects)
    assert settings.remote_tracking and settings.artifact_location("cost") is None
    (claim,) = [
        o
        for o in objects
        if o["kind"] == "PersistentVolumeClaim" and "train" in o["metadata"]["name"]
    ]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    cluster = retrain_job(objects)["spec"]["rayClusterSpec"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for pod in (group["template"]["spec"] for group in groups):
        (volume,) = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
        (container,) = pod["containers"]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts[volume["name"]] == settings.train_storage_path


def test_production_scales_furthest():
    bounds = {}
    for env in ENVIRONMENTS:
        service = _one(render(KUBERAY / "overlays" / env), "RayService")
        group = service["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
        config = yaml.safe_load(service["spec"]["serveConfigV2"])
        replicas = config["applications"][0]["deployments"][0]["autoscaling_config"]
        bounds[env] = (group["minReplicas"], group["maxReplicas"], replicas["max_replicas"])
    assert bounds["development"] < bounds["staging"] < bounds["production"]


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return render(KUBERAY / "overlays" / "production")


def _broken(objects: list[dict], kind: str, name: str, edit) -> list[str]:
    objects = copy.deepcopy(objects)
    edit(next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name))
    return [str(p) for p in problems(objects)]


def test_broken_core_objects_are_refused_with_a_reason(production):
    def wrong_type(o):
        o["spec"]["replicas"] = "two"

    def unknown_field(o):
        o["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"

    def missing(o):
        del o["spec"]["selector"]

    for edit, says in (
        (wrong_type, "'two' is not of type"),
        (unknown_field, "'imagePullPolicyy' was unexpected"),
        (missing, "'selector' is a required property"),
    ):
        found = _broken(production, "StatefulSet", "redis", edit)
        assert any(p.startswith("StatefulSet/redis") and says in p for p in found), found


def test_broken_serve_configs_are_refused(production):
    def bad_import(o):
        o["spec"]["serveConfigV2"] = o["spec"]["serveConfigV2"].replace(
            "serve.app:app", "serve.nosuch:app"
        )

    def bad_field(o):
        o["spec"]["serveConfigV2"] = o["spec"]["serveConfigV2"].replace(
            "max_ongoing_requests: 128", "max_ongoing_requests: lots"
        )

    found = _broken(production, "RayService", "aetheredge", bad_import)
    assert any("import_path serve.nosuch:app" in p for p in found), found
    found = _broken(production, "RayService", "aetheredge", bad_field)
    assert any("serveConfigV2" in p and "max_ongoing_requests" in p for p in found), found


RAY_INTERNAL_PORTS = {6379, 8265, 10001}
OPERATOR = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kuberay-system"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/component": "kuberay-operator"}},
}


def test_network_is_default_deny_and_ray_internals_stay_inside(rendered):
    _, objects = rendered
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    deny = next(p for p in policies if p["metadata"]["name"] == "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            outside = any("namespaceSelector" in peer for peer in rule.get("from", []))
            if outside and rule["from"] != [OPERATOR]:
                ports = {p["port"] for p in rule.get("ports", [])}
                assert ports and not ports & RAY_INTERNAL_PORTS, policy["metadata"]["name"]


def test_the_kuberay_operator_reaches_the_heads_dashboard_and_client_port_alone(rendered):
    """What KubeRay's own generated head policy admits the operator to; nothing else
    from outside the namespace reaches a Ray internal port (the test above)."""
    _, objects = rendered
    rules = [
        (policy["spec"]["podSelector"]["matchLabels"], rule)
        for policy in objects
        if policy["kind"] == "NetworkPolicy"
        for rule in policy["spec"].get("ingress", [])
        if OPERATOR in rule.get("from", [])
    ]
    ((pods, rule),) = rules
    assert pods == {"aetheredge.io/role": "ray", "ray.io/node-type": "head"}
    assert rule["from"] == [OPERATOR]
    assert {p["port"] for p in rule["ports"]} == {8265, 10001}
    budgets = {o["metadata"]["name"] for o in objects if o["kind"] == "PodDisruptionBudget"}
    assert budgets == {"scorers", "state"}


def test_tls_everywhere_but_development(rendered):
    env, objects = rendered
    ingress = _one(objects, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/limit-rps"]) > 0
    if env == "development":
        assert "tls" not in ingress["spec"]
    else:
        assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
        assert annotations["cert-manager.io/cluster-issuer"].startswith("letsencrypt")


def _scanned(objects: list[dict]) -> Scan:
    skip_without_checkov()
    return scan(objects)


def test_checkov_fails_nothing_and_every_skip_says_why(rendered, manifest_scans):
    env, _ = rendered
    result = manifest_scans[f"kustomize-{env}"]
    assert [str(p) for p in result.failed] == []
    assert result.passed > 200
    assert len(result.skipped) >= 3  # the image digests, at least
    for check, reason in result.skipped.items():
        assert len(reason) > 40, f"{check} is skipped without a reason"


def test_checkov_catches_an_unlocked_pod(production):
    objects = copy.deepcopy(production)
    mlflow = next(o for o in objects if o["kind"] == "Deployment")
    container = mlflow["spec"]["template"]["spec"]["containers"][0]
    del container["securityContext"]
    container.pop("resources")
    failed = {p.message.split(":")[0] for p in _scanned(objects).failed}
    assert {"CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_28", "CKV_K8S_11", "CKV_K8S_13"} <= failed
