"""The live service as the reliability tests run it: two replicas following the
champions, Redis behind a path the tests can cut. Redeployed once for this package; it
stays so (the path restored) for whatever runs after, until the session ends."""

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pytest
from ray.dashboard.modules.serve.sdk import ServeSubmissionClient

from aetheredge.api.client import ServiceClient
from aetheredge.ops.deployment import DEPLOYMENT, deploy
from aetheredge.settings import Settings
from tests.support.outages import Relay

FOLLOW = {"anomaly": None, "cost": None}  # serve the champions


@dataclass
class Stack:
    """The redeployed service: its settings, a client, its Redis path, the dashboard."""

    settings: Settings
    client: ServiceClient
    redis: Relay
    dashboard: str

    def replicas(self) -> list[dict[str, Any]]:
        """The Scorer replicas Serve reports (``replica_id``, ``state``, ``pid``, ...);
        none while its controller does not answer."""
        try:
            details = ServeSubmissionClient(self.dashboard).get_serve_details()
        except (RuntimeError, OSError):
            return []
        app = details.get("applications", {}).get(self.settings.serve_app_name, {})
        return app.get("deployments", {}).get(DEPLOYMENT, {}).get("replicas", [])

    def wait_for_replicas(
        self, count: int, gone: Collection[str] = (), timeout_s: float = 120.0
    ) -> list[dict[str, Any]]:
        """The replicas, once exactly ``count`` are RUNNING, no other is listed, and none
        is one of the ``gone`` replica ids."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            replicas = self.replicas()
            running = all(r["state"] == "RUNNING" for r in replicas)
            if (
                len(replicas) == count
                and running
                and not {r["replica_id"] for r in replicas} & set(gone)
            ):
                return replicas
            time.sleep(0.5)
        raise TimeoutError(f"not {count} RUNNING replicas within {timeout_s:.0f}s")


@pytest.fixture(scope="session")
def redis_path(platform, tmp_path_factory):
    """A TCP path to the session's Redis, open until the session ends."""
    settings, _ = platform
    path = Relay(settings.redis_url, 6379, tmp_path_factory.mktemp("relay") / "relay.log")
    yield path
    path.cut()


@pytest.fixture(scope="package")
def stack(platform, first_versions, redis_path):
    settings, dashboard = platform
    redis = redis_path
    ours = settings.model_copy(
        update={"redis_url": redis.url, "serve_min_replicas": 2, "serve_max_replicas": 2}
    )
    built = Stack(ours, ServiceClient.from_settings(ours), redis, dashboard)
    before = [r["replica_id"] for r in built.replicas()]
    deploy(ours, dashboard, FOLLOW)  # a new Redis URL: every replica is replaced
    built.wait_for_replicas(2, gone=before)
    return built
