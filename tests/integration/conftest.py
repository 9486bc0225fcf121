"""One real local Ray cluster for the whole integration session.

It starts on free ports (never 6379, Redis's), with a dashboard for the Jobs and Serve
REST APIs, a small object store, and ``AETHER_*`` settings pointing at a private state
dir, so Serve replicas and job drivers (which inherit this environment) share one
MLflow SQLite store with the tests.
"""

import os
import sys
from pathlib import Path

import pytest
import ray
from ray import serve

from aetheredge.cluster import free_port
from aetheredge.config import Settings


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("aetheredge-it")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AETHER_HOME", str(home))
        env.setenv("AETHER_SERVE_PORT", str(free_port()))
        env.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        settings = Settings()
        context = ray.init(
            address="local",
            num_cpus=2,
            object_store_memory=settings.ray_object_store_bytes,
            include_dashboard=True,
            dashboard_host="127.0.0.1",
            dashboard_port=free_port(),
            log_to_driver=False,
        )
        try:
            yield settings, f"http://{context.dashboard_url}"
        finally:
            serve.shutdown()
            ray.shutdown()
