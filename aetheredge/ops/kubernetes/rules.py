"""Checks the KubeRay operator (v1.7) makes on RayService, RayJob and RayCronJob objects
that their CRD schemas cannot express, re-implemented to run offline.

Each check reads one object and yields a sentence per broken rule, so a manifest fails
here, before ``kubectl apply``, with the reason the operator would give later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from croniter import croniter

# Name limits: the operator derives Service and Pod names with suffixes from these.
NAME_LIMITS = {"RayService": 47, "RayJob": 47, "RayCronJob": 47, "RayCluster": 63}
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
UPGRADE_TYPES = ("NewCluster", "NewClusterWithIncrementalUpgrade", "None")
SUBMISSION_MODES = ("K8sJobMode", "HTTPMode", "InteractiveMode", "SidecarMode")
FT_ANNOTATION = "ray.io/ft-enabled"
STORAGE_NS_ANNOTATION = "ray.io/external-storage-namespace"
_CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight")
Spec = dict[str, Any]


def _env(container: Spec) -> dict[str, Any]:
    return {e.get("name"): e.get("value") for e in container.get("env", [])}


def _groups(cluster: Spec) -> Iterator[tuple[str, Spec]]:
    yield "head", cluster.get("headGroupSpec", {})
    for group in cluster.get("workerGroupSpecs", []):
        yield f"worker group {group.get('groupName', '?')}", group


def _autoscaler_v2(cluster: Spec, head_env: dict[str, Any]) -> bool:
    version = (cluster.get("autoscalerOptions") or {}).get("version")
    return version == "v2" or str(head_env.get("RAY_enable_autoscaler_v2")) in ("1", "true")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def cluster_problems(cluster: Spec, annotations: dict[str, str]) -> Iterator[str]:
    """The operator's RayCluster spec checks (also run on RayService and RayJob clusters)."""
    heads = cluster.get("headGroupSpec", {}).get("template", {}).get("spec", {})
    head = (heads.get("containers") or [{}])[0]
    head_env = _env(head)
    for name, group in _groups(cluster):
        pod = group.get("template", {}).get("spec", {})
        if not pod.get("containers"):
            yield f"{name} needs at least one container"
        params = group.get("rayStartParams", {})
        if group.get("resources") and any(
            params.get(k) for k in ("num-cpus", "num-gpus", "memory", "resources")
        ):
            yield f"{name}: resources set in both rayStartParams and resources"
        low, high = group.get("minReplicas"), group.get("maxReplicas")
        if low is not None and high is not None and low > high:
            yield f"{name}: minReplicas {low} exceeds maxReplicas {high}"
        replicas = group.get("replicas")
        if replicas is not None and high is not None and replicas > high:
            yield f"{name}: replicas {replicas} exceeds maxReplicas {high}"
    options = cluster.get("gcsFaultToleranceOptions")
    if options is not None:
        if annotations.get(FT_ANNOTATION):
            yield f"GCS fault tolerance set twice: {FT_ANNOTATION} and gcsFaultToleranceOptions"
        if annotations.get(STORAGE_NS_ANNOTATION):
            yield f"{STORAGE_NS_ANNOTATION} with gcsFaultToleranceOptions: use its field"
        if cluster.get("headGroupSpec", {}).get("rayStartParams", {}).get("redis-password"):
            yield "redis-password in rayStartParams with gcsFaultToleranceOptions"
        for variable in ("REDIS_PASSWORD", "RAY_REDIS_ADDRESS"):
            if variable in head_env:
                yield f"head env {variable} with gcsFaultToleranceOptions: use its fields"
    elif "RAY_REDIS_ADDRESS" in head_env and not annotations.get(FT_ANNOTATION):
        yield "RAY_REDIS_ADDRESS enables GCS fault tolerance without gcsFaultToleranceOptions"
    autoscaling = bool(cluster.get("enableInTreeAutoscaling"))
    if not autoscaling and str(head_env.get("RAY_enable_autoscaler_v2")) in ("1", "true"):
        yield "RAY_enable_autoscaler_v2 set while enableInTreeAutoscaling is false"
    if autoscaling and _autoscaler_v2(cluster, head_env):
        for name, group in _groups(cluster):
            policy = group.get("template", {}).get("spec", {}).get("restartPolicy")
            if policy not in (None, "", "Never"):
                yield f"{name}: restartPolicy must be Never (or unset) with autoscaler v2"
    if (cluster.get("authOptions") or {}).get("mode") == "token":
        version = cluster.get("rayVersion", "")
        if not version or _version(version) < (2, 52, 0):
            yield f"authOptions token mode needs rayVersion >= 2.52.0 (got {version or 'none'})"


def _job_problems(spec: Spec, annotations: dict[str, str]) -> Iterator[str]:
    shutdown = bool(spec.get("shutdownAfterJobFinishes"))
    ttl = spec.get("ttlSecondsAfterFinished", 0)
    if spec.get("suspend") and not shutdown:
        yield "a suspended RayJob needs shutdownAfterJobFinishes"
    if ttl < 0:
        yield "ttlSecondsAfterFinished must not be negative"
    if ttl > 0 and not shutdown:
        yield "ttlSecondsAfterFinished needs shutdownAfterJobFinishes: true"
    mode = spec.get("submissionMode", "K8sJobMode")
    if mode not in SUBMISSION_MODES:
        yield f"submissionMode {mode!r} is not one of {', '.join(SUBMISSION_MODES)}"
    selector = spec.get("clusterSelector") or {}
    if not selector and spec.get("rayClusterSpec") is None:
        yield "one of rayClusterSpec or clusterSelector must be set"
    if mode == "InteractiveMode" and spec.get("backoffLimit", 0) > 0:
        yield "backoffLimit does not work with InteractiveMode"
    if mode == "SidecarMode" and (spec.get("submitterPodTemplate") or selector):
        yield "SidecarMode takes neither submitterPodTemplate nor clusterSelector"
    if spec.get("activeDeadlineSeconds") is not None and spec["activeDeadlineSeconds"] <= 0:
        yield "activeDeadlineSeconds must be positive"
    if spec.get("backoffLimit", 0) < 0:
        yield "backoffLimit must not be negative"
    if spec.get("rayClusterSpec") is not None:
        yield from cluster_problems(spec["rayClusterSpec"], annotations)


def _service_problems(spec: Spec, annotations: dict[str, str]) -> Iterator[str]:
    cluster = spec.get("rayClusterConfig", {})
    yield from cluster_problems(cluster, annotations)
    if (cluster.get("headGroupSpec", {}).get("headService") or {}).get("metadata", {}).get("name"):
        yield "headGroupSpec.headService.metadata.name must not be set on a RayService"
    kind = (spec.get("upgradeStrategy") or {}).get("type")
    if kind is not None and kind not in UPGRADE_TYPES:
        yield f"upgradeStrategy.type {kind!r} is not one of {', '.join(UPGRADE_TYPES)}"
    if spec.get("rayClusterDeletionDelaySeconds", 0) < 0:
        yield "rayClusterDeletionDelaySeconds must not be negative"


def _cron_problems(spec: Spec, annotations: dict[str, str]) -> Iterator[str]:
    schedule = spec.get("schedule", "")
    if schedule not in _CRON_DESCRIPTORS and not croniter.is_valid(schedule):
        yield f"schedule {schedule!r} is not a cron expression"
    yield from (
        f"jobTemplate: {p}" for p in _job_problems(spec.get("jobTemplate", {}), annotations)
    )


_SPEC_CHECKS: dict[str, Callable[[Spec, dict[str, str]], Iterator[str]]] = {
    "RayService": _service_problems,
    "RayJob": _job_problems,
    "RayCronJob": _cron_problems,
    "RayCluster": cluster_problems,
}


def operator_problems(obj: dict[str, Any]) -> list[str]:
    """What the operator would refuse in ``obj`` (a ``ray.io/v1`` object), as sentences."""
    kind = obj.get("kind", "")
    metadata = obj.get("metadata", {})
    name = metadata.get("name", "")
    problems = []
    if kind in NAME_LIMITS and len(name) > NAME_LIMITS[kind]:
        problems.append(f"name {name!r} is longer than {NAME_LIMITS[kind]} characters")
    if kind in NAME_LIMITS and not _DNS1035.match(name):
        problems.append(f"name {name!r} is not a DNS-1035 label")
    check = _SPEC_CHECKS.get(kind)
    if check is not None:
        problems += check(obj.get("spec", {}), metadata.get("annotations") or {})
    return problems
