"""Redis as the platform uses it: one key namespace per schema, clients that give up fast.

Online baselines (:mod:`aetheredge.stores.online`), the prediction log's spill stream
(:mod:`aetheredge.stores.spill`) and the rate limiter's buckets all live under
:func:`namespace`, so dropping a schema drops its keys too.
"""

from __future__ import annotations

import redis.asyncio as redis

from aetheredge.settings import Settings


def namespace(settings: Settings) -> str:
    """The prefix of every Redis key the platform keeps for ``settings``' schema."""
    return f"ae:{settings.database_schema}:"


def redis_client(settings: Settings) -> redis.Redis:
    """A client of the platform's Redis that gives up after ``AETHER_REDIS_TIMEOUT_S``."""
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
