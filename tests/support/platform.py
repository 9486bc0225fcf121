"""One real local Ray cluster for the whole integration session.

It starts on free ports (never 6379, Redis's), with Serve's HAProxy ingress as
``make up`` runs it (``AETHER_SERVE_INGRESS``), a dashboard for the Jobs and Serve
REST APIs, a small object store, API keys required as deployed (the tests' client
presents one, ``AETHER_API_KEY``), and ``AETHER_*`` settings pointing at a private state
dir, so Serve replicas and job drivers (which inherit this environment) share one
MLflow SQLite store with the tests, and a freshly migrated PostgreSQL schema of their own.
"""

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import pytest
import ray

from aetheredge import kinds
from aetheredge.api.client import ServiceClient
from aetheredge.ops.cluster import free_port, serve_env, stop_haproxy, wait_for_job_agent
from aetheredge.ops.deployment import deploy
from aetheredge.security.gate import new_key
from aetheredge.settings import Settings
from aetheredge.stores.admin import drop_schema, migrate_schema
from train.pipeline import retrain


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, database_url: str, redis_url: str):
    home = tmp_path_factory.mktemp("aetheredge-it")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AETHER_HOME", str(home))
        env.setenv("AETHER_SERVE_PORT", str(free_port()))
        env.setenv("AETHER_DATABASE_URL", database_url)
        env.setenv("AETHER_DATABASE_SCHEMA", f"it_{uuid.uuid4().hex[:12]}")
        env.setenv("AETHER_REDIS_URL", redis_url)
        env.setenv("AETHER_METRICS_LINGER_S", "0")  # tests scrape what stays up themselves
        # Keys on, as deployed: the tests' own client presents an admin key; the limit is
        # high enough for the load tests yet still held in Redis on every request.
        key, sha256 = new_key()
        keys = [{"name": "tests", "sha256": sha256, "scopes": ["admin"]}]
        env.setenv("AETHER_API_KEYS", json.dumps(keys))
        env.setenv("AETHER_API_KEY", key)
        env.setenv("AETHER_RATE_LIMIT_RPS", "100000")
        env.setenv("AETHER_RATE_LIMIT_BURST", "100000")
        env.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        settings = Settings()
        asyncio.run(migrate_schema(settings))
        for name, value in serve_env(settings).items():
            env.setenv(name, value)
        context = ray.init(
            address="local",
            num_cpus=2,
            object_store_memory=settings.ray_object_store_bytes,
            include_dashboard=True,
            dashboard_host="127.0.0.1",
            dashboard_port=free_port(),
            log_to_driver=False,
        )
        wait_for_job_agent(context.address_info["gcs_address"])  # the tests submit jobs
        try:
            yield settings, f"http://{context.dashboard_url}"
        finally:
            # No serve.shutdown(): its graceful drain waits 30 s on the controller, and
            # the whole cluster (schema included) is thrown away here anyway.
            ray.shutdown()
            stop_haproxy(settings)
            asyncio.run(drop_schema(settings))


@pytest.fixture(scope="session")
def first_versions(platform):
    settings, _ = platform
    return {
        kind: retrain(
            kind, rows=20_000, seed=0, workers=2, params={"n_estimators": 20}, settings=settings
        )
        for kind in kinds.names()
    }


@pytest.fixture(scope="session")
def service(platform, first_versions):
    settings, dashboard = platform
    served = deploy(
        settings, dashboard, {k: r.candidate.version for k, r in first_versions.items()}
    )
    assert served == {"anomaly": "1", "cost": "1"}
    return ServiceClient.from_settings(settings)
