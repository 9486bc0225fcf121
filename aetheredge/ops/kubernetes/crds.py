"""Validating ``ray.io/v1`` objects offline against the KubeRay CRDs' ``openAPIV3Schema``.

A CRD schema is OpenAPI v3.0 with Kubernetes extensions; jsonschema speaks JSON Schema
2020-12. :func:`to_json_schema` converts one into the other the way the API server
reads it:

- ``x-kubernetes-int-or-string``: an integer or a string;
- ``x-kubernetes-preserve-unknown-fields``: unknown fields are kept, so allowed;
  everywhere else an object with ``properties`` refuses fields it does not name (the
  API server prunes them silently, which hides typos: offline they are errors);
- ``nullable``: null is allowed too;
- OpenAPI 3.0's boolean ``exclusiveMinimum``/``exclusiveMaximum`` become 2020-12 numbers;
- ``format`` (int32, int64, date-time…) is informational, as the API server treats most.

CEL rules (``x-kubernetes-validations``) that can be checked on one object live in
:mod:`aetheredge.ops.kubernetes.rules`, beside the operator's own checks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

_KEYWORDS = (
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
)


def to_json_schema(node: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema (2020-12) equivalent of one OpenAPI v3.0 CRD schema node."""
    out: dict[str, Any] = {k: node[k] for k in _KEYWORDS if k in node}
    nullable = bool(node.get("nullable"))
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}, *([{"type": "null"}] * nullable)]
    elif "type" in node:
        out["type"] = [node["type"], "null"] if nullable else node["type"]
        if nullable and "enum" in out:
            out["enum"] = [*out["enum"], None]
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if node.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)
    if "properties" in node:
        out["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = to_json_schema(node["additionalProperties"])
    if "items" in node:
        out["items"] = to_json_schema(node["items"])
    for combinator in ("allOf", "oneOf"):
        if combinator in node:
            out[combinator] = [to_json_schema(n) for n in node[combinator]]
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [to_json_schema(n) for n in node["anyOf"]]
    if "not" in node:
        out["not"] = to_json_schema(node["not"])
    return out


@dataclass(frozen=True)
class Problem:
    """One reason an object is invalid: where in it, and what is wrong."""

    kind: str
    name: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}: {self.path or '<root>'}: {self.message}"


def json_path(parts: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def schema_problems(validator: Draft202012Validator, obj: dict[str, Any]) -> Iterator[Problem]:
    """Each error ``validator`` finds in ``obj``, in document order, as a :class:`Problem`."""
    kind, name = obj.get("kind", "?"), obj.get("metadata", {}).get("name", "?")
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        yield Problem(kind, name, json_path(error.absolute_path), error.message)


class CrdSchemas:
    """The ``ray.io`` CRDs found in a directory, keyed by (apiVersion, kind)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}
        for path in sorted(directory.glob("*.yaml")):
            crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = to_json_schema(version["schema"]["openAPIV3Schema"])
                self._validators[(f"{group}/{version['name']}", kind)] = Draft202012Validator(
                    schema
                )
        if not self._validators:
            raise FileNotFoundError(f"no CustomResourceDefinition in {directory}")

    def knows(self, obj: dict[str, Any]) -> bool:
        return (obj.get("apiVersion"), obj.get("kind")) in self._validators

    def problems(self, obj: dict[str, Any]) -> Iterator[Problem]:
        """Every schema violation of ``obj`` (none when it is valid)."""
        kind, name = obj.get("kind", "?"), obj.get("metadata", {}).get("name", "?")
        validator = self._validators.get((obj.get("apiVersion"), obj.get("kind")))
        if validator is None:
            yield Problem(kind, name, "apiVersion", f"no CRD for {obj.get('apiVersion')} {kind}")
            return
        yield from schema_problems(validator, obj)


def crd_directory() -> Path:
    """``AETHER_KUBERAY_CRDS``, else ``../shared/kuberay-crds`` beside the checkout."""
    configured = os.environ.get("AETHER_KUBERAY_CRDS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[4] / "shared" / "kuberay-crds"


@cache
def kuberay_schemas(directory: Path | None = None) -> CrdSchemas:
    """The (cached) schemas of the KubeRay CRDs in ``directory`` (see :func:`crd_directory`)."""
    return CrdSchemas(directory or crd_directory())
