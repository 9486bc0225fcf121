"""Rendering the Kustomize overlays and validating every object they produce, offline.

- ``ray.io/v1`` objects: the KubeRay CRD schemas (:mod:`aetheredge.k8s.crds`) and the
  operator's rules (:mod:`aetheredge.k8s.rules`); a RayService's ``serveConfigV2`` is
  parsed with Ray's own ``ServeDeploySchema`` and every ``import_path`` imported.
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

from aetheredge.k8s.crds import Problem, kuberay_schemas
from aetheredge.k8s.rules import operator_problems

KUBERNETES_VERSION = "1.32.0"
KUBERAY = Path(__file__).resolve().parents[2] / "kuberay"
ENVIRONMENTS = ("development", "staging", "production")


def render(overlay: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize`` renders from ``overlay``."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise FileNotFoundError("kubectl is needed to render Kustomize overlays")
    out = subprocess.run(
        [kubectl, "kustomize", str(overlay)], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


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
        else:
            messages = _core_problems(obj)
        found += [Problem(kind, name, "", m) for m in messages]
    return found
