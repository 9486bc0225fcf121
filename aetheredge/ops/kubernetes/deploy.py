"""``aetheredge deploy --env``: render, validate, compare, apply, wait, roll back.

A :class:`Plan` is what a deployment would do: the objects of one environment rendered
through Kustomize or the Helm chart, every offline check's findings, and how each object
differs from what was deployed before. Nothing in it touches a cluster, so
``--dry-run`` shows all of it anywhere. :class:`Cluster` then applies a valid plan
with ``kubectl`` (or Helm), waits for the RayService's ``Ready`` condition, and on
failure puts the previous deployment back.

The previous deployment is the manifest the last successful Kustomize deployment
recorded in the ConfigMap ``aetheredge-deployment`` of its namespace (Helm keeps its own
release history), or a file given with ``--previous``.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from aetheredge.ops.kubernetes.crds import Problem
from aetheredge.ops.kubernetes.manifests import (
    CHART,
    JOB_TEMPLATE,
    KUBERAY,
    RELEASE,
    chart_values,
    namespace,
    problems,
    render,
    render_chart,
    retrain_job,
)
from aetheredge.ops.kubernetes.scan import Scan, scan

RECORD = "aetheredge-deployment"  # ConfigMap: the last manifest that became Ready
SERVICE = "aetheredge"  # the RayService whose Ready condition ends a deployment

Key = tuple[str, str]


def key(obj: dict[str, Any]) -> Key:
    return obj["kind"], obj["metadata"]["name"]


class _Dumper(yaml.SafeDumper):
    """YAML as a person reads it: multi-line strings (a serveConfigV2, a job file) as
    literal blocks, so that a diff shows the lines that changed."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def dump(objects: list[dict[str, Any]]) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, width=float("inf"))


@dataclass(frozen=True)
class Change:
    """What a deployment does to one object."""

    action: str  # create, update, unchanged, delete
    kind: str
    name: str
    diff: str = ""  # unified diff of the object's YAML, for an update


def changes(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[Change]:
    """Each object's change from ``previous`` to ``current``, in ``current``'s order, then
    the deletions."""
    before = {key(o): o for o in previous}
    out = []
    for obj in current:
        old = before.pop(key(obj), None)
        if old is None:
            out.append(Change("create", *key(obj)))
        elif old == obj:
            out.append(Change("unchanged", *key(obj)))
        else:
            kind, name = key(obj)
            lines = difflib.unified_diff(
                dump([old]).splitlines(),
                dump([obj]).splitlines(),
                f"{kind}/{name} (deployed)",
                f"{kind}/{name} (new)",
                lineterm="",
            )
            out.append(Change("update", kind, name, "\n".join(lines)))
    return out + [Change("delete", *k) for k in before]


def highlights(obj: dict[str, Any]) -> str:
    """The few facts of an object a reviewer looks for first."""
    spec = obj.get("spec", {})
    kind = obj["kind"]
    if kind == "RayService":
        group = spec["rayClusterConfig"]["workerGroupSpecs"][0]
        image = group["template"]["spec"]["containers"][0]["image"]
        return (
            f"scorers {group['minReplicas']}-{group['maxReplicas']}, "
            f"upgrade {spec.get('upgradeStrategy', {}).get('type', 'NewCluster')}, {image}"
        )
    if obj["metadata"]["name"] == JOB_TEMPLATE:
        job = retrain_job([obj])["spec"]
        workers = sum(g["replicas"] for g in job["rayClusterSpec"]["workerGroupSpecs"])
        return f"RayJob template: {job['entrypoint']} on {workers} trainer(s)"
    if kind in ("RayCronJob", "CronJob"):
        return f"schedule '{spec['schedule']}' (UTC)"
    if kind == "Ingress":
        tls = "https" if spec.get("tls") else "http"
        limit = obj["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/limit-rps")
        return f"{tls}://{spec['rules'][0]['host']}, {limit} req/s per client"
    if kind == "StatefulSet":
        claims = spec.get("volumeClaimTemplates", [])
        storage = claims[0]["spec"]["resources"]["requests"]["storage"] if claims else "-"
        return f"{spec['template']['spec']['containers'][0]['image']}, {storage}"
    return ""


def secret_keys(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Each Secret the objects (and the RayJob template they ship) read, with its keys.
    They are never in the manifests: the cluster must hold them before a deployment."""
    found: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            volume = node.get("secret")
            if isinstance(volume, dict) and "secretName" in volume:
                keys = {item["key"] for item in volume.get("items", [])}
                found.setdefault(volume["secretName"], set()).update(keys)
            reference = node.get("secretKeyRef")
            if isinstance(reference, dict):
                found.setdefault(reference["name"], set()).add(reference["key"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    shipped = any(o["metadata"]["name"] == JOB_TEMPLATE for o in objects)
    walk([*objects, retrain_job(objects)] if shipped else objects)
    return found


@dataclass
class Plan:
    """A deployment of one environment, worked out offline."""

    environment: str
    namespace: str
    method: str  # kustomize or helm
    objects: list[dict[str, Any]]
    problems: list[Problem]
    scan: Scan | None  # None: checkov was not run
    previous: list[dict[str, Any]] | None

    @cached_property
    def changes(self) -> list[Change]:
        """Each object's change from :attr:`previous` (none known: all created)."""
        return changes(self.previous or [], self.objects)

    @property
    def valid(self) -> bool:
        return not self.problems and (self.scan is None or not self.scan.failed)

    def refusals(self) -> list[str]:
        found = [str(p) for p in self.problems]
        return found + [f"checkov: {p}" for p in (self.scan.failed if self.scan else [])]


def plan(
    environment: str,
    helm: bool = False,
    previous: list[dict[str, Any]] | None = None,
    checkov: bool = True,
) -> Plan:
    """Render ``environment`` and validate it; compare with ``previous`` when known."""
    target = namespace(environment)
    if helm:
        objects = render_chart(chart_values(environment), target)
    else:
        objects = render(KUBERAY / "overlays" / environment)
    return Plan(
        environment=environment,
        namespace=target,
        method="helm" if helm else "kustomize",
        objects=objects,
        problems=problems(objects),
        scan=scan(objects) if checkov else None,
        previous=previous,
    )


class DeployError(RuntimeError):
    """A deployment that did not become Ready (and was rolled back where it could be)."""


class Cluster:
    """The cluster ``kubectl`` points at (its current context), in one namespace."""

    def __init__(self, namespace: str, context: str | None = None) -> None:
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            raise FileNotFoundError("kubectl is needed to deploy")
        self.namespace = namespace
        self.context = context
        self._base = [kubectl, "--namespace", namespace]
        if context:
            self._base += ["--context", context]

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        run = subprocess.run(
            [*self._base, *args], input=stdin, capture_output=True, text=True, timeout=1800
        )
        if check and run.returncode != 0:
            raise DeployError(f"kubectl {' '.join(args[:2])}: {run.stderr.strip()}")
        return run.stdout

    def reachable(self) -> bool:
        try:
            self.kubectl("version", "--request-timeout=5s", "--output=json")
        except (DeployError, subprocess.TimeoutExpired):
            return False
        return True

    def recorded(self) -> list[dict[str, Any]] | None:
        """The manifest the last successful Kustomize deployment recorded, if any."""
        out = self.kubectl("get", "configmap", RECORD, "--output=json", "--ignore-not-found")
        if not out.strip():
            return None
        return [d for d in yaml.safe_load_all(json.loads(out)["data"]["manifest.yaml"]) if d]

    def apply(self, objects: list[dict[str, Any]]) -> None:
        self.kubectl(
            "apply", "--server-side", "--field-manager=aetheredge", "--force-conflicts",
            "--filename=-", stdin=dump(objects),
        )  # fmt: skip

    def delete(self, keys: list[Key]) -> None:
        for kind, name in keys:
            self.kubectl("delete", kind, name, "--ignore-not-found", "--wait=false")

    def missing_secrets(self, needed: dict[str, set[str]]) -> list[str]:
        """``secret/key`` for each needed key the namespace's Secrets lack."""
        missing = []
        for name, keys in sorted(needed.items()):
            out = self.kubectl("get", "secret", name, "--output=json", "--ignore-not-found")
            held = set(json.loads(out).get("data", {})) if out.strip() else set()
            missing += [f"{name}/{key}" for key in sorted(keys - held)]
        return missing

    def record(self, objects: list[dict[str, Any]]) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": RECORD, "labels": {"app.kubernetes.io/part-of": "aetheredge"}},
            "data": {"manifest.yaml": dump(objects)},
        }
        self.apply([config])

    def wait_ready(self, timeout_s: int) -> bool:
        run = subprocess.run(
            [*self._base, "wait", f"rayservice/{SERVICE}", "--for=condition=Ready",
             f"--timeout={timeout_s}s"],
            capture_output=True, text=True,
        )  # fmt: skip
        return run.returncode == 0


def apply_kustomize(the_plan: Plan, cluster: Cluster, timeout_s: int) -> str:
    """Apply, wait for Ready, record; on failure re-apply the previous manifest and delete
    what this deployment created. Returns what happened, or raises :class:`DeployError`."""
    previous = the_plan.previous
    created = [(c.kind, c.name) for c in the_plan.changes if c.action == "create"]
    try:
        cluster.apply(the_plan.objects)
        if cluster.wait_ready(timeout_s):
            cluster.record(the_plan.objects)
            return f"RayService {SERVICE} is Ready in {cluster.namespace}"
        failure = f"RayService {SERVICE} was not Ready within {timeout_s} s"
    except DeployError as exc:
        failure = str(exc)
    if previous is None:
        raise DeployError(f"{failure}; no earlier deployment to roll back to")
    cluster.apply(previous)
    cluster.delete(created)
    raise DeployError(f"{failure}; rolled back to the previous manifest")


def apply_helm(the_plan: Plan, timeout_s: int, context: str | None = None) -> str:
    """``helm upgrade --install`` of the chart, then wait for Ready; on failure ``helm
    rollback`` to the revision that was deployed (or uninstall a first install)."""
    import helm_python

    values = chart_values(the_plan.environment)
    with helm_python.Config(namespace=the_plan.namespace, kube_context=context) as helm:
        deployed = _deployed_revision(helm)
        try:
            if deployed is None:
                release = helm.install(
                    str(CHART), RELEASE, values, wait="watcher", timeout=timeout_s
                )
            else:
                release = helm.upgrade(
                    str(CHART), RELEASE, values, wait="watcher", timeout=timeout_s
                )
            if Cluster(the_plan.namespace, context).wait_ready(timeout_s):
                return f"release {RELEASE} revision {release['version']}: RayService Ready"
            failure = f"RayService {SERVICE} was not Ready within {timeout_s} s"
        except helm_python.HelmError as exc:
            failure = f"helm: {exc}"
        if deployed is not None:
            helm.rollback(RELEASE, version=deployed, wait="watcher", timeout=timeout_s)
            raise DeployError(f"{failure}; rolled back to revision {deployed}")
        helm.uninstall(RELEASE, ignore_not_found=True)
        raise DeployError(f"{failure}; the first install was removed")


def _deployed_revision(helm: Any) -> int | None:
    """The revision of the release that is deployed now, if there is one."""
    import helm_python

    try:
        releases = helm.history(RELEASE)
    except helm_python.HelmNotFoundError:
        return None
    deployed = [r["version"] for r in releases if r.get("info", {}).get("status") == "deployed"]
    return max(deployed, default=None)


def previous_from(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]
