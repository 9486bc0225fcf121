"""PostgreSQL: connections, migrations, partitions and the batch writers.

Every connection puts the platform's schema (``AETHER_DATABASE_SCHEMA``) first on its
``search_path`` and works in UTC, so SQL names tables unqualified and day partitions
are UTC days wherever the server runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from aetheredge.settings import Settings


class DatabaseUnavailableError(Exception):
    """PostgreSQL cannot take the work now (down, saturated, slow or not migrated)."""


# What "the database cannot take it now" looks like, as opposed to a bug in our SQL.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,  # a connection that broke mid-COPY
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.UndefinedTableError,
)


def _server_settings(settings: Settings) -> dict[str, str]:
    return {
        "search_path": f"{settings.database_schema},public",
        "timezone": "UTC",
        "application_name": "aetheredge",
    }


async def connect(settings: Settings) -> asyncpg.Connection:
    """One connection to the platform's database and schema."""
    return await asyncpg.connect(
        settings.database_url,
        server_settings=_server_settings(settings),
        command_timeout=settings.db_command_timeout_s,
        timeout=settings.db_acquire_timeout_s * 5,
    )


async def create_pool(
    settings: Settings,
    init: Callable[[asyncpg.Connection], Awaitable[Any]] | None = None,
    size: int | None = None,
) -> asyncpg.Pool:
    """A bounded pool (``AETHER_DB_POOL_SIZE``); ``init`` runs on every new connection."""
    size = size or settings.db_pool_size
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=1,
        max_size=size,
        init=init,
        server_settings=_server_settings(settings),
        command_timeout=settings.db_command_timeout_s,
        timeout=settings.db_acquire_timeout_s * 5,
    )
