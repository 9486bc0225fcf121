"""The live service as the reliability tests run it: two replicas following the
champions, Redis behind a path the tests can cut. Redeployed once for this package; it
stays so (the path restored) for whatever runs after, until the session ends."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pytest

from aetheredge.api.client import ServiceClient
from aetheredge.ops.deployment import deploy
from aetheredge.settings import Settings
from tests.support.outages import Relay
from tests.support.serve import replicas, wait_for_replicas

FOLLOW = {"anomaly": None, "cost": None}  # serve the champions


@dataclass
class Stack:
    """The redeployed service: its settings, a client, its Redis path, the dashboard."""

    settings: Settings
    client: ServiceClient
    redis: Relay
    dashboard: str

    def replicas(self) -> list[dict[str, Any]]:
        return replicas(self.dashboard, self.settings.serve_app_name)

    def wait_for_replicas(
        self, count: int, gone: Collection[str] = (), timeout_s: float = 120.0
    ) -> list[dict[str, Any]]:
        return wait_for_replicas(
            self.dashboard, self.settings.serve_app_name, count, gone, timeout_s
        )


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
