"""Rendering the Kustomize overlays and the Helm chart, and validating every object they
produce, offline.

- ``ray.io/v1`` objects: the KubeRay CRD schemas (:mod:`aetheredge.ops.kubernetes.crds`) and the
  operator's rules (:mod:`aetheredge.ops.kubernetes.rules`); a RayService's ``serveConfigV2`` is
  parsed with Ray's own ``ServeDeploySchema`` and every ``import_path`` imported.
- ``monitoring.coreos.com/v1`` objects (PodMonitor…): the Prometheus Operator's schemas
  (:mod:`aetheredge.ops.kubernetes.monitoring`).
- Core kinds: the Kubernetes API schemas of ``kubernetes-validate``, in strict mode
  (unknown fields are errors).
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from aetheredge.ops.kubernetes import monitoring
from aetheredge.ops.kubernetes.crds import Problem, kuberay_schemas
from aetheredge.ops.kubernetes.rules import operator_problems

KUBERNETES_VERSION = "1.32.0"
KUBERAY = Path(__file__).resolve().parents[3] / "kuberay"
CHART = KUBERAY.parent / "helm" / "aetheredge"
RELEASE = "aetheredge"
ENVIRONMENTS = ("development", "staging", "production")


def _documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(overlay: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize`` renders from ``overlay``."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise FileNotFoundError("kubectl is needed to render Kustomize overlays")
    out = subprocess.run(
        [kubectl, "kustomize", str(overlay)], check=True, capture_output=True, text=True
    ).stdout
    return _documents(out)


JOB_TEMPLATE = "aetheredge-retrain-rayjob"  # ConfigMap: the RayJob retraining copies


def retrain_job(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The retraining RayJob template that ``objects`` ship (and schedule) but never apply."""
    (config,) = [o for o in objects if o["metadata"]["name"] == JOB_TEMPLATE]
    return yaml.safe_load(config["data"]["rayjob.yaml"])


def namespace(environment: str) -> str:
    """The namespace an environment deploys to: its overlay's ``namespace``."""
    kustomization = KUBERAY / "overlays" / environment / "kustomization.yaml"
    return yaml.safe_load(kustomization.read_text())["namespace"]


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, nested mappings merged (as Helm merges values)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def chart_values(environment: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values a release of ``environment`` gets: its profile, then ``extra``."""
    profile = yaml.safe_load((CHART / f"values-{environment}.yaml").read_text()) or {}
    return merged(profile, extra or {})


def render_chart(values: dict[str, Any], release_namespace: str) -> list[dict[str, Any]]:
    """The objects the Helm chart renders with ``values`` (helm-python-sdk, no helm binary).

    Raises ``helm_python.HelmError`` (a ``ValueError`` for bad values) when
    ``values.schema.json`` refuses the values or a template fails.
    """
    import helm_python

    with helm_python.Chart.load(str(CHART)) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values, name=RELEASE, namespace=release_namespace)
    manifests = [text for path, text in sorted(rendered.items()) if path.endswith(".yaml")]
    return [obj for text in manifests for obj in _documents(text)]


def _serve_config_problems(obj: dict[str, Any]) -> list[str]:
    from ray.serve.schema import ServeDeploySchema

    try:
        config = ServeDeploySchema.model_validate(yaml.safe_load(obj["spec"]["serveConfigV2"]))
    except Exception as exc:  # pydantic's error names each bad field
        return [f"serveConfigV2: {exc}"]
    problems = []
    for app in config.applications:
        module, _, attribute = app.import_path.replace(":", ".").rpartition(".")
        try:
            getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as exc:
            problems.append(f"serveConfigV2: {app.name}: import_path {app.import_path}: {exc}")
    return problems


def _core_problems(obj: dict[str, Any]) -> list[str]:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(map(str, exc.path)) or '<root>'}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no Kubernetes {KUBERNETES_VERSION} schema for {obj.get('apiVersion')}"]
    return []


def problems(objects: list[dict[str, Any]]) -> list[Problem]:
    """Every reason any of ``objects`` would be refused (empty when all are valid)."""
    schemas = kuberay_schemas()
    found: list[Problem] = []
    for obj in objects:
        kind, name = obj.get("kind", "?"), obj.get("metadata", {}).get("name", "?")
        if schemas.knows(obj):
            found += schemas.problems(obj)
            messages = operator_problems(obj)
            if kind == "RayService":
                messages += _serve_config_problems(obj)
        elif monitoring.knows(obj):
            found += monitoring.problems(obj)
            messages = []
        else:
            messages = _core_problems(obj)
        found += [Problem(kind, name, "", m) for m in messages]
    return found
