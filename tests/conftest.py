"""Shared fixtures: isolated platform settings, and the PostgreSQL and Redis servers.

The servers are the real ones: those at ``AETHER_DATABASE_URL`` / ``AETHER_REDIS_URL``
(default 127.0.0.1:5432 and :6379) when they answer; else throwaway servers started
from the binaries found on this machine (pytest-postgresql, pytest-redis); else the
tests that need them skip, saying what to install.
"""

import asyncio
import glob
import os
import shutil
import socket
import uuid
from urllib.parse import urlsplit

import pytest

from aetheredge.config import Settings

DEFAULTS = Settings.model_fields


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with a private state dir (MLflow SQLite store, Ray Train results)."""
    return Settings(home=tmp_path_factory.mktemp("aetheredge-home"))


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("AETHER_DATABASE_URL", DEFAULTS["database_url"].default)
    if _answers(url, 5432):
        return url
    if shutil.which("pg_ctl") or glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"):
        proc = request.getfixturevalue("postgresql_proc")
        return f"postgresql://{proc.user}@{proc.host}:{proc.port}/postgres"
    pytest.skip(
        f"PostgreSQL does not answer at {url} and no pg_ctl was found: install PostgreSQL "
        "15 (e.g. `apt install postgresql`) or point AETHER_DATABASE_URL at a server"
    )


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("AETHER_REDIS_URL", DEFAULTS["redis_url"].default)
    if _answers(url, 6379):
        return url
    if shutil.which("redis-server"):
        proc = request.getfixturevalue("redis_proc")
        return f"redis://{proc.host}:{proc.port}/0"
    pytest.skip(
        f"Redis does not answer at {url} and no redis-server was found: install Redis 7 "
        "(e.g. `apt install redis-server`) or point AETHER_REDIS_URL at a server"
    )


@pytest.fixture(scope="module")
def db_settings(settings: Settings, database_url: str, redis_url: str):
    """Settings on a fresh, migrated schema of its own, dropped afterwards."""
    from aetheredge.cli_db import drop_schema, migrate_schema

    schema = f"test_{uuid.uuid4().hex[:12]}"
    ours = settings.model_copy(
        update={"database_url": database_url, "database_schema": schema, "redis_url": redis_url}
    )
    asyncio.run(migrate_schema(ours))
    yield ours
    asyncio.run(drop_schema(ours))
