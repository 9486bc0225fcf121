"""What Serve reports about its proxies and the Scorer's replicas, read from a dashboard."""

import time
from collections.abc import Collection
from typing import Any

from ray.dashboard.modules.serve.sdk import ServeSubmissionClient

from aetheredge.ops.deployment import DEPLOYMENT


def details(dashboard: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Serve's applications and proxies; empty while its controller does not answer."""
    try:
        return ServeSubmissionClient(dashboard, headers=headers).get_serve_details()
    except (RuntimeError, OSError):
        return {}


def replicas(
    dashboard: str, app: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The Scorer replicas Serve reports (``replica_id``, ``state``, ``node_ip``, ``pid``,
    ...); none while its controller does not answer."""
    found = details(dashboard, headers).get("applications", {}).get(app, {})
    return found.get("deployments", {}).get(DEPLOYMENT, {}).get("replicas", [])


def wait_for_replicas(
    dashboard: str,
    app: str,
    count: int,
    gone: Collection[str] = (),
    timeout_s: float = 120.0,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The replicas, once exactly ``count`` are RUNNING, no other is listed, and none is
    one of the ``gone`` replica ids."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = replicas(dashboard, app, headers)
        running = all(r["state"] == "RUNNING" for r in found)
        if len(found) == count and running and not {r["replica_id"] for r in found} & set(gone):
            return found
        time.sleep(0.5)
    raise TimeoutError(f"not {count} RUNNING replicas within {timeout_s:.0f}s")
