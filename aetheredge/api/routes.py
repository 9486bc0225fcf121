"""Every route of the service, declared once: its path, its protocol and who may call it.

The Serve deployment mounts these paths, the fast path answers the scoring ones, the
gate reads each path's scope, the client and the benchmarks call them, and a refusal
takes the shape of the protocol its path belongs to (:mod:`aetheredge.api.errors`).
"""

from __future__ import annotations

from typing import Literal

from aetheredge import kinds
from aetheredge.kinds import ModelKind
from aetheredge.settings.security import Scope

Protocol = Literal["v1", "v2"]

HEALTHZ = "/healthz"
V1_MODELS = "/v1/models"
V1_TELEMETRY = "/v1/telemetry"

V2 = "/v2"  # the Open Inference Protocol's server metadata; every V2 path starts with it
V2_LIVE = "/v2/health/live"
V2_READY = "/v2/health/ready"
V2_MODEL = "/v2/models/{name}"
V2_MODEL_VERSION = "/v2/models/{name}/versions/{version}"
V2_MODEL_READY = f"{V2_MODEL}/ready"
V2_MODEL_VERSION_READY = f"{V2_MODEL_VERSION}/ready"
V2_INFER = f"{V2_MODEL}/infer"
V2_VERSION_INFER = f"{V2_MODEL_VERSION}/infer"

# Answered without an API key: health probes and the API's own documentation.
OPEN = frozenset({HEALTHZ, V2_LIVE, V2_READY, "/docs", "/redoc", "/openapi.json"})


def score_path(kind: ModelKind) -> str:
    """The ``/v1`` scoring path of ``kind``'s model (each kind declares its own)."""
    return kinds.get(kind).v1_path


def infer_path(kind: ModelKind) -> str:
    """The V2 inference path of ``kind``'s model (its unversioned form)."""
    return V2_INFER.format(name=kind)


def protocol(path: str) -> Protocol:
    """The protocol ``path`` (concrete or a template) belongs to."""
    return "v2" if path == V2 or path.startswith(f"{V2}/") else "v1"


def scope(path: str) -> Scope | None:
    """The scope an API key needs for ``path``; None for the open paths."""
    if path in OPEN:
        return None
    return "ingest" if path == V1_TELEMETRY else "score"
