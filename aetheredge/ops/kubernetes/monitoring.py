"""Validating Prometheus Operator objects (``monitoring.coreos.com/v1``) offline.

No CRD file of the Prometheus Operator is at hand, but ``cloudcoil-models-prometheus-
operator`` (PyPI) carries pydantic models generated from those CRDs. Their JSON Schema,
closed so that an object with named fields refuses any other (as
:func:`aetheredge.ops.kubernetes.crds.to_json_schema` does for KubeRay's), validates an object the
way the API server's schema would, typos included.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from aetheredge.ops.kubernetes.crds import Problem, schema_problems

API_VERSION = "monitoring.coreos.com/v1"


def _closed(node: Any) -> Any:
    """``node`` with every object closed, and pydantic's ``Optional`` (``anyOf: [X, null]``)
    read as ``X``: a manifest leaves a field out rather than setting it to null, and errors
    then name the field that is wrong rather than the whole list around it."""
    if isinstance(node, dict):
        node = {key: _closed(value) for key, value in node.items()}
        options = node.get("anyOf", [])
        if len(options) == 2 and {"type": "null"} in options:
            del node["anyOf"]
            node.update(next(o for o in options if o != {"type": "null"}))
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
    elif isinstance(node, list):
        node = [_closed(item) for item in node]
    return node


@cache
def _validator(kind: str) -> Draft202012Validator | None:
    from cloudcoil.models.prometheus_operator import v1

    model = getattr(v1, kind, None)
    if model is None:
        return None
    return Draft202012Validator(_closed(model.model_json_schema(by_alias=True)))


def knows(obj: dict[str, Any]) -> bool:
    return obj.get("apiVersion") == API_VERSION


def problems(obj: dict[str, Any]) -> Iterator[Problem]:
    """Every schema violation of a ``monitoring.coreos.com/v1`` object."""
    kind = obj.get("kind", "?")
    validator = _validator(kind)
    if validator is None:
        name = obj.get("metadata", {}).get("name", "?")
        yield Problem(kind, name, "kind", f"{API_VERSION} has no kind {kind}")
        return
    yield from schema_problems(validator, obj)
