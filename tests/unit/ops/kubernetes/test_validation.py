"""Offline validation of KubeRay objects: the real v1.7.0 CRD schemas and the operator's rules."""

import copy

import pytest
from jsonschema import Draft202012Validator

from aetheredge.ops.kubernetes.crds import crd_directory, kuberay_schemas, to_json_schema
from aetheredge.ops.kubernetes.manifests import problems
from aetheredge.ops.kubernetes.rules import operator_problems

if not crd_directory().is_dir():
    pytest.skip(
        f"KubeRay CRDs not found at {crd_directory()} (set AETHER_KUBERAY_CRDS)",
        allow_module_level=True,
    )

IMAGE = "rayproject/ray:2.60.0-py311"


def _cluster() -> dict:
    return {
        "rayVersion": "2.60.0",
        "enableInTreeAutoscaling": True,
        "authOptions": {"mode": "token"},
        "headGroupSpec": {
            "rayStartParams": {"num-cpus": "0"},
            "template": {"spec": {"containers": [{"name": "ray-head", "image": IMAGE}]}},
        },
        "workerGroupSpecs": [
            {
                "groupName": "scorers",
                "minReplicas": 1,
                "maxReplicas": 4,
                "rayStartParams": {},
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "ray-worker",
                                "image": IMAGE,
                                "resources": {"requests": {"cpu": 2, "memory": "4Gi"}},
                            }
                        ]
                    }
                },
            }
        ],
    }


def _job_spec() -> dict:
    return {
        "entrypoint": "python -m jobs.retrain --model cost",
        "shutdownAfterJobFinishes": True,
        "ttlSecondsAfterFinished": 600,
        "activeDeadlineSeconds": 7200,
        "backoffLimit": 1,
        "rayClusterSpec": _cluster(),
    }


def service() -> dict:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": "aetheredge"},
        "spec": {
            "serveConfigV2": "applications: []\n",
            "upgradeStrategy": {"type": "NewCluster"},
            "rayClusterConfig": _cluster()
            | {"gcsFaultToleranceOptions": {"redisAddress": "redis:6379"}},
        },
    }


def job() -> dict:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "aetheredge-retrain"},
        "spec": _job_spec(),
    }


def cron() -> dict:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCronJob",
        "metadata": {"name": "aetheredge-retrain"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": _job_spec()},
    }


def _schema_problems(obj: dict) -> list[str]:
    return [str(p) for p in kuberay_schemas().problems(obj)]


@pytest.mark.parametrize("make", [service, job, cron])
def test_well_formed_objects_pass_both_checks(make):
    obj = make()
    assert kuberay_schemas().knows(obj)
    assert _schema_problems(obj) == []
    assert operator_problems(obj) == []


def _edit(obj: dict, path: str, value: object) -> dict:
    """``obj`` with ``path`` (dots; ints index lists) set to ``value`` (None: removed)."""
    obj = copy.deepcopy(obj)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = obj
    for part in parents:
        node = node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return obj


GROUP = "spec.rayClusterConfig.workerGroupSpecs.0"


@pytest.mark.parametrize(
    ("obj", "where", "says"),
    [
        (  # a wrong field type
            _edit(service(), f"{GROUP}.maxReplicas", "four"),
            "workerGroupSpecs[0].maxReplicas",
            "'four' is not of type 'integer'",
        ),
        (  # an unknown field (a typo): the API server would silently drop it
            _edit(service(), "spec.rayClusterConfig.headGroupSpec.rayStartParam", {}),
            "rayClusterConfig.headGroupSpec",
            "'rayStartParam' was unexpected",
        ),
        (  # a missing required field
            _edit(service(), "spec.rayClusterConfig", None),
            "spec",
            "'rayClusterConfig' is a required property",
        ),
        (_edit(cron(), "spec.schedule", None), "spec", "'schedule' is a required property"),
        (  # a float where Kubernetes takes an integer or a string
            _edit(service(), f"{GROUP}.template.spec.containers.0.resources.requests.cpu", 1.5),
            "resources.requests.cpu",
            "1.5 is not valid under any of the given schemas",
        ),
        (_edit(job(), "spec.backoffLimit", True), "spec.backoffLimit", "True is not of type"),
    ],
)
def test_schema_rejects_with_the_path_and_the_reason(obj, where, says):
    problems = _schema_problems(obj)
    assert any(where in p and says in p for p in problems), problems


@pytest.mark.parametrize(
    ("obj", "says"),
    [
        (_edit(service(), "metadata.name", "a" * 48), "longer than 47 characters"),
        (_edit(job(), "metadata.name", "Retrain_Job"), "not a DNS-1035 label"),
        (_edit(service(), f"{GROUP}.minReplicas", 5), "minReplicas 5 exceeds maxReplicas 4"),
        (
            _edit(service(), "metadata.annotations", {"ray.io/ft-enabled": "true"}),
            "GCS fault tolerance set twice",
        ),
        (_edit(service(), "spec.upgradeStrategy.type", "Rolling"), "upgradeStrategy.type"),
        (_edit(job(), "spec.submissionMode", "Batch"), "submissionMode 'Batch'"),
        (_edit(job(), "spec.shutdownAfterJobFinishes", False), "needs shutdownAfterJobFinishes"),
        (_edit(job(), "spec.activeDeadlineSeconds", 0), "activeDeadlineSeconds must be positive"),
        (_edit(cron(), "spec.schedule", "every night"), "not a cron expression"),
        (
            _edit(
                _edit(service(), "spec.rayClusterConfig.autoscalerOptions", {"version": "v2"}),
                f"{GROUP}.template.spec.restartPolicy",
                "Always",
            ),
            "restartPolicy must be Never",
        ),
        (_edit(service(), "spec.rayClusterConfig.rayVersion", "2.46.0"), "rayVersion >= 2.52.0"),
        (
            _edit(cron(), "spec.jobTemplate.rayClusterSpec", None),
            "jobTemplate: one of rayClusterSpec or clusterSelector",
        ),
    ],
)
def test_operator_rules_the_schema_cannot_express(obj, says):
    assert _schema_problems(obj) == []  # the schema alone lets these through
    problems = operator_problems(obj)
    assert any(says in p for p in problems), problems


def test_conversion_honours_kubernetes_extensions():
    node = {
        "type": "object",
        "properties": {
            "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}]},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "maybe": {"type": "string", "nullable": True, "enum": ["a"]},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
            "fixed": {"type": "object", "properties": {"a": {"type": "string"}}},
        },
    }
    check = Draft202012Validator(to_json_schema(node))
    valid = {"port": "http", "free": {"anything": [1]}, "maybe": None, "ratio": 0.5}
    assert not list(check.iter_errors(valid | {"port": 8080, "fixed": {"a": "x"}}))
    for bad in (
        {"port": 1.5},
        {"maybe": "b"},
        {"ratio": 0},
        {"fixed": {"b": "x"}},
        {"unknown": 1},
    ):
        assert list(check.iter_errors(bad)), bad


def _pod_monitor() -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "ray", "namespace": "aetheredge"},
        "spec": {
            "selector": {"matchLabels": {"aetheredge.io/role": "ray"}},
            "podMetricsEndpoints": [{"port": "metrics", "interval": "15s"}],
        },
    }


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (None, None),
        (("spec.podMetricsEndpoints.0.intervall", "15s"), "'intervall' was unexpected"),
        (("spec.podMetricsEndpoints.0.port", 8080), "port: 8080 is not of type 'string'"),
        (("spec", None), "'spec' is a required property"),
        (("kind", "PodMonitors"), "has no kind PodMonitors"),
    ],
)
def test_prometheus_operator_objects_are_validated_too(edit, says):
    obj = _pod_monitor() if edit is None else _edit(_pod_monitor(), *edit)
    found = [str(p) for p in problems([obj])]
    if says is None:
        assert found == []
    else:
        assert any(says in p for p in found), found
