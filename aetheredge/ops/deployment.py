"""Deploying the Serve application through the Ray dashboard's REST API.

This is what ``serve deploy`` and KubeRay's RayService do: a declarative config names
the application by import path (``serve.app:app``), so this module never imports the
serving code, and redeploying with a changed ``user_config`` updates running replicas
in place instead of restarting them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ray.dashboard.modules.serve.sdk import ServeSubmissionClient

from aetheredge import kinds
from aetheredge.api.client import ServiceClient
from aetheredge.kinds import ModelKind
from aetheredge.ops.entrypoints import SERVE_APP
from aetheredge.settings import Settings

DEPLOYMENT = "Scorer"
# How often Serve checks each replica: a crashed one is replaced this much sooner than
# with Serve's default of 10 s.
HEALTH_CHECK_PERIOD_S = 2.0


TUNING = (
    "batch_max_size",
    "batch_wait_s",
    "batch_bypass_rows",
    "inference_threads",
    "prediction_log",
)


def _given(**options: Any) -> dict[str, Any]:
    """The options that are set: an unset one is left to Serve's default, and stays out
    of the generated manifests."""
    return {name: value for name, value in options.items() if value is not None}


def scorer_deployment(settings: Settings, versions: dict[ModelKind, str | None]) -> dict[str, Any]:
    """The options of the one deployment, ``Scorer``: every one of them comes from here,
    for ``aetheredge up`` and for the manifests' ``serveConfigV2`` alike."""
    return {
        "name": DEPLOYMENT,
        "ray_actor_options": {"num_cpus": settings.serve_replica_cpus},
        **_given(max_replicas_per_node=settings.serve_max_replicas_per_node),
        "logging_config": {"enable_access_log": settings.serve_access_log},
        # A batch can never hold more requests than a replica accepts.
        "max_ongoing_requests": max(settings.max_ongoing_requests, settings.batch_max_size),
        "health_check_period_s": HEALTH_CHECK_PERIOD_S,
        "autoscaling_config": {
            "min_replicas": settings.serve_min_replicas,
            "max_replicas": settings.serve_max_replicas,
            "target_ongoing_requests": settings.batch_max_size // 2 or 1,
            **_given(
                upscale_delay_s=settings.serve_upscale_delay_s,
                downscale_delay_s=settings.serve_downscale_delay_s,
                look_back_period_s=settings.serve_look_back_period_s,
            ),
        },
        "user_config": {
            "versions": {kind: versions.get(kind) for kind in kinds.names()},
            "tuning": {k: getattr(settings, k) for k in TUNING},
        },
    }


def application(
    settings: Settings, versions: dict[ModelKind, str | None], env: bool = True
) -> dict[str, Any]:
    """The Serve application; with ``env``, it carries this process's settings to the
    replicas (on Kubernetes the pods read them from their ConfigMap instead)."""
    app: dict[str, Any] = {
        "name": settings.serve_app_name,
        "route_prefix": "/",
        "import_path": SERVE_APP,
    }
    if env:
        app["runtime_env"] = {"env_vars": settings.child_env()}
    app["deployments"] = [scorer_deployment(settings, versions)]
    return app


def serve_config(
    settings: Settings,
    versions: dict[ModelKind, str | None],
    extra_applications: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The Serve config (``ServeDeploySchema``) for the application serving ``versions``
    on the local cluster. ``extra_applications`` are deployed beside it (benchmarks add
    a baseline app)."""
    return {
        "proxy_location": settings.serve_proxy_location,
        "http_options": {"host": settings.serve_host, "port": settings.serve_port},
        "applications": [application(settings, versions), *extra_applications],
    }


def kubernetes_serve_config(settings: Settings) -> dict[str, Any]:
    """A RayService's ``serveConfigV2``, for the settings its pods read: every replica
    follows the champions, and every node runs a proxy.

    ``AETHER_SERVE_METRICS_PUSH_S`` is refused here: Ray reads it as process
    environment when a node starts (:func:`~aetheredge.ops.cluster.serve_env`), which
    the pods' ConfigMap does not set, so the window it allows would go unfilled.
    """
    if settings.serve_metrics_push_s is not None:
        raise ValueError(
            "AETHER_SERVE_METRICS_PUSH_S does not reach Ray on Kubernetes: set "
            "RAY_SERVE_HANDLE_AUTOSCALING_METRIC_PUSH_INTERVAL_S and "
            "RAY_SERVE_REPLICA_AUTOSCALING_METRIC_PUSH_INTERVAL_S in the Ray pods' env, "
            "and keep AETHER_SERVE_LOOK_BACK_PERIOD_S at least twice Serve's 10-s pushes"
        )
    return {
        "proxy_location": "EveryNode",
        "http_options": {"host": settings.serve_host, "port": settings.serve_port},
        "applications": [application(settings, dict.fromkeys(kinds.names()), env=False)],
    }


def deploy(
    settings: Settings,
    dashboard_url: str,
    versions: dict[ModelKind, str | None],
    timeout_s: float = 600.0,
    extra_applications: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
    ingress: str | None = None,
) -> dict[str, str]:
    """Deploy (or update) the application and wait until it serves ``versions``.

    A version of None means "follow the champion": replicas serve it and swap in place
    when the alias moves. The result maps each kind to the version actually served, as
    the ``ingress`` URL answers (default: the settings' host and port). ``headers`` go
    with every dashboard request (a cluster's token, when this process has none).
    """
    from aetheredge.artifacts.registry import Registry

    registry = Registry(settings)
    expected = {
        kind: version or (champion.version if (champion := registry.champion(kind)) else None)
        for kind, version in versions.items()
    }
    client = ServeSubmissionClient(dashboard_url, headers=headers)
    service = ServiceClient.from_settings(settings, ingress)
    client.deploy_applications(serve_config(settings, versions, extra_applications))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app = client.get_serve_details().get("applications", {}).get(settings.serve_app_name, {})
        if app.get("status") == "DEPLOY_FAILED":
            raise RuntimeError(f"Serve deployment failed: {app.get('message')}")
        served = service.served_versions() if app.get("status") == "RUNNING" else None
        if served is not None and all(
            served.get(k) == v for k, v in expected.items() if v is not None
        ):
            return served
        time.sleep(1.0)
    raise TimeoutError(f"Serve application not ready within {timeout_s:.0f}s")
