"""A real MLflow tracking server for tests: PostgreSQL backend, proxied artifacts.

:func:`mlflow_server` starts the multi-node harness's own server
(:func:`aetheredge.ops.nodes.services.mlflow`) on 127.0.0.1 and a free port, with its
runs in a throwaway PostgreSQL database and its artifacts in ``artifacts`` (the server's
disk, standing for the volume production gives it), and stops it by pid and drops the
database afterwards, also when the test fails.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from aetheredge.ops.cluster import free_port
from aetheredge.ops.nodes import services


@contextlib.contextmanager
def mlflow_server(database_url: str, artifacts: Path, log: Path) -> Iterator[str]:
    """The tracking URI of a running ``mlflow server``; see the module docstring."""
    name = services.create_database(database_url, "mlflow")
    backend = services.sqlalchemy_url(database_url, name)
    server = services.mlflow("127.0.0.1", free_port(), backend, artifacts, log)
    try:
        server.start(services.mlflow_health)
        yield f"http://{server.url}"
    finally:
        server.stop()
        services.drop_database(database_url, name)
