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
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from aetheredge.settings import Settings

DEFAULTS = Settings.model_fields
# How hard tests/fuzz pushes the live API: `bounded` (make test: the same cases every
# run) unless `--hypothesis-profile=long` (make fuzz: new random cases every run).
_FUZZ = {"deadline": None, "suppress_health_check": list(HealthCheck), "print_blob": True}
hypothesis_settings.register_profile("bounded", max_examples=15, derandomize=True, **_FUZZ)
hypothesis_settings.register_profile("long", max_examples=400, **_FUZZ)
hypothesis_settings.load_profile("bounded")
# The shared local Ray cluster and what runs on it (tests/integration, tests/lifecycle).
pytest_plugins = ("tests.support.platform",)


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


def _server(
    request: pytest.FixtureRequest, setting: str, port: int, found: bool, proc: str, to_url
) -> str:
    """The configured server if it answers, else a throwaway one, else a skip."""
    url = os.environ.get(f"AETHER_{setting.upper()}", DEFAULTS[setting].default)
    if _answers(url, port):
        return url
    if found:
        return to_url(request.getfixturevalue(proc))
    pytest.skip(INSTALL[setting].format(url=url))


INSTALL = {
    "database_url": "PostgreSQL does not answer at {url} and no pg_ctl was found: install "
    "PostgreSQL 15 (e.g. `apt install postgresql`) or point AETHER_DATABASE_URL at a server",
    "redis_url": "Redis does not answer at {url} and no redis-server was found: install "
    "Redis 7 (e.g. `apt install redis-server`) or point AETHER_REDIS_URL at a server",
}


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> str:
    found = bool(shutil.which("pg_ctl") or glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return _server(
        request,
        "database_url",
        5432,
        found,
        "postgresql_proc",
        lambda proc: f"postgresql://{proc.user}@{proc.host}:{proc.port}/postgres",
    )


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    return _server(
        request,
        "redis_url",
        6379,
        bool(shutil.which("redis-server")),
        "redis_proc",
        lambda proc: f"redis://{proc.host}:{proc.port}/0",
    )


@pytest.fixture(scope="module")
def db_settings(settings: Settings, database_url: str, redis_url: str):
    """Settings on a fresh, migrated schema of its own, dropped afterwards."""
    from aetheredge.stores.admin import drop_schema, migrate_schema

    schema = f"test_{uuid.uuid4().hex[:12]}"
    ours = settings.model_copy(
        update={"database_url": database_url, "database_schema": schema, "redis_url": redis_url}
    )
    asyncio.run(migrate_schema(ours))
    yield ours
    asyncio.run(drop_schema(ours))
