"""A per-API-key rate limit: a token bucket in Redis, checked and taken atomically.

Each key has a bucket of ``AETHER_RATE_LIMIT_BURST`` tokens, refilled at
``AETHER_RATE_LIMIT_RPS`` per second; a request takes one. One Lua script reads the
bucket, refills it by Redis's own clock (so replicas' clocks do not matter), and takes
or refuses, so concurrent requests on any number of replicas never overdraw it. A
refusal is a 429 with ``Retry-After``: the whole seconds until a token is back.

If Redis does not answer, requests pass (scoring must not stop because the limiter's
store did) and :attr:`RateLimiter.degraded` says so until Redis answers again (see
:class:`~aetheredge.stores.redis.Breaker`).
"""

from __future__ import annotations

import math

import redis.asyncio as redis
from redis.exceptions import RedisError

from aetheredge.api.errors import RequestError
from aetheredge.settings import Settings
from aetheredge.stores.redis import Breaker, namespace, redis_client

TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(t))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RateLimiter:
    """Token buckets per API key name, shared by every replica through Redis."""

    def __init__(self, settings: Settings, client: redis.Redis | None = None) -> None:
        self.rate = settings.rate_limit_rps
        self.burst = settings.rate_limit_burst
        self.prefix = namespace(settings) + "ratelimit:"
        self.redis = client or redis_client(settings)
        self._take = self.redis.register_script(TAKE)
        self.breaker = Breaker(self.redis, settings.redis_retry_s)

    @property
    def degraded(self) -> bool:
        """True while Redis is failing and requests pass unlimited."""
        return self.breaker.open

    async def take(self, name: str) -> None:
        """Take a token from ``name``'s bucket; 429 with ``Retry-After`` when it is empty."""
        if self.rate <= 0 or self.degraded:
            return
        try:
            key, args = [self.prefix + name], [self.rate, self.burst]
            wait = float(await self.breaker.call(lambda: self._take(keys=key, args=args)))
        except (RedisError, OSError):
            return
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise RequestError(
                429,
                {"detail": f"rate limit of {self.rate:g} requests/s for this API key"},
                {"Retry-After": str(retry)},
            )
