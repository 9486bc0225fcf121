"""Redis as the platform uses it: one key namespace per schema, clients that give up fast.

Online baselines (:mod:`aetheredge.stores.online`), the prediction log's spill stream
(:mod:`aetheredge.stores.spill`) and the rate limiter's buckets all live under
:func:`namespace`, so dropping a schema drops its keys too.

The hot path meets a failing Redis through a :class:`Breaker`: after a failure it
leaves Redis alone for ``AETHER_REDIS_RETRY_S``, then lets one call probe it while the
others go on without it, and it drops the client's idle connections. Both halves
were measured through a relay cut for 4 s under 8 tasks reading at once (this
machine, 2 CPUs):

- Without the probe, the 8 tasks reconnected at once; past a listen backlog of 5
  (``socat``'s default) SYNs were lost beyond the 0.25 s connect timeout, and reads
  stayed degraded 1.46 s after the restore began in 3 runs of 3; with the breaker,
  0.20-0.25 s (the relay's own restart) in 9 runs of 9.
- A server that dies resets its connections, and redis-py's pool check (end of stream)
  does not see a reset: idle connections failed one at a time after the restore, the
  latest 4.65 s after it (2 runs of 10), each costing another retry window, until the
  breaker dropped the idle ones on the first failure.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as redis
from redis.exceptions import RedisError

from aetheredge.settings import Settings

T = TypeVar("T")


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


class Breaker:
    """A failing Redis left alone for ``retry_s``, then probed by one call at a time."""

    def __init__(self, client: redis.Redis, retry_s: float) -> None:
        self.client = client
        self.retry_s = retry_s
        self._until = 0.0  # 0: closed; inf: a probe is out; else: open until then

    @property
    def open(self) -> bool:
        """True while callers should go on without Redis."""
        return time.monotonic() < self._until

    async def call(self, command: Callable[[], Awaitable[T]]) -> T:
        """Run ``command``; raise :class:`RedisError` or :class:`OSError` if Redis failed."""
        probing = self._until > 0.0
        if probing:
            self._until = math.inf
        try:
            result = await command()
        except (RedisError, OSError):
            self._until = time.monotonic() + self.retry_s
            with contextlib.suppress(RedisError, OSError):
                await self.client.connection_pool.disconnect(inuse_connections=False)
            raise
        except BaseException:  # cancelled mid-probe, say: the next call probes
            if probing:
                self._until = time.monotonic()
            raise
        self._until = 0.0
        return result
