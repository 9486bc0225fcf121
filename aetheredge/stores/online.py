"""Online features in Redis: each entity's EWMA baseline, kept current by ingest.

One key per entity, ``ae:<schema>:baseline:<entity_id>``, holds its state as packed
little-endian doubles: row count, last row's time (µs since the epoch), then the EWMA
mean and variance of each encoded metric; it expires ``AETHER_ONLINE_TTL_S`` after its
last update. Ingest applies a batch's new rows with one Lua script call (atomic; a bulk
batch is cut into calls of about :data:`ROWS_PER_CALL` rows), in time order per entity,
skipping rows no newer than the entity's last one: a re-sent or late row never counts
twice. Rows travel packed too, so no number is ever printed and parsed, and the
arithmetic is :mod:`aetheredge.features.baselines`'s to the last bit: serving sees the z-scores
training computed offline.

Scoring reads a request's baselines with one ``MGET``, and keeps what it read for
``AETHER_ONLINE_CACHE_S`` (1 s; a baseline moves once per ingested row, minutes apart),
so a busy entity costs Redis one read a second per replica; this process's own ingest
drops the entities it moves from that cache at once. When Redis does not answer
within ``AETHER_REDIS_TIMEOUT_S`` the request is scored on its own features (zero
z-scores) and marked ``degraded``; Redis is then left alone for ``AETHER_REDIS_RETRY_S``
so that an outage costs no request a timeout, and then probed by one request at a
time (:class:`~aetheredge.stores.redis.Breaker`).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import redis.asyncio as redis
from redis.exceptions import RedisError

from aetheredge.features.baselines import ALPHA, DECAY, Baselines, history, zscores
from aetheredge.kinds.anomaly import ANOMALY_FEATURES
from aetheredge.kinds.anomaly import KIND as ANOMALY
from aetheredge.settings import Settings
from aetheredge.stores.redis import Breaker, namespace, redis_client

log = logging.getLogger(__name__)
K = len(ANOMALY_FEATURES)
STATE = np.dtype([("n", "<f8"), ("ts", "<f8"), ("mean", "<f8", K), ("var", "<f8", K)])
ROWS_PER_CALL = 20_000
CACHE_ENTRIES = 100_000  # baselines a process keeps at most

# KEYS: one per entity. ARGV: alpha, decay, decay*alpha, ttl, k, then per entity its rows
# in time order, packed: ts and the k encoded metrics, as little-endian doubles.
UPDATE = """
local alpha, decay, da = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl, k = tonumber(ARGV[4]), tonumber(ARGV[5])
local state_fmt = '<' .. string.rep('d', 2 + 2 * k)
local row_fmt = '<' .. string.rep('d', 1 + k)
local applied = 0
for i, key in ipairs(KEYS) do
  local n, last, m, v = 0, -1, {}, {}
  local packed = redis.call('GET', key)
  if packed then
    local s = {struct.unpack(state_fmt, packed)}
    n, last = s[1], s[2]
    for j = 1, k do m[j] = s[2 + j]; v[j] = s[2 + k + j] end
  end
  local rows, pos = ARGV[5 + i], 1
  while pos <= #rows do
    local r = {struct.unpack(row_fmt, rows, pos)}
    pos = r[k + 2]
    if r[1] > last then
      for j = 1, k do
        local x = r[1 + j]
        if n == 0 then
          m[j] = x; v[j] = 0
        else
          local d = x - m[j]
          m[j] = alpha * x + decay * m[j]
          v[j] = da * (d * d) + decay * v[j]
        end
      end
      n = n + 1; last = r[1]; applied = applied + 1
    end
  end
  local out = {n, last}
  for j = 1, k do out[2 + j] = m[j]; out[2 + k + j] = v[j] end
  redis.call('SET', key, struct.pack(state_fmt, unpack(out)), 'EX', ttl)
end
return applied
"""


# KEYS: entities; ARGV: ttl, then one packed STATE per key. A stored state as new as
# the given one (its last row no older) is kept: live ingest may have moved past it.
RESTORE = """
local written = 0
for i, key in ipairs(KEYS) do
  local state = ARGV[i + 1]
  local current = redis.call('GET', key)
  local older = true
  if current then
    local _, stored_ts = struct.unpack('<dd', current)
    local _, given_ts = struct.unpack('<dd', state)
    older = stored_ts < given_ts
  end
  if older then
    redis.call('SET', key, state, 'EX', tonumber(ARGV[1]))
    written = written + 1
  end
end
return written
"""


def states(frame: pd.DataFrame) -> dict[str, bytes]:
    """Each entity's packed baseline after all its rows in ``frame`` (any order)."""
    out = {}
    X = ANOMALY.encode(frame)
    micros = frame["ts"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    for entity, rows in frame.groupby("entity_id", observed=True).indices.items():
        rows = rows[np.argsort(micros[rows], kind="stable")]
        _, mean, var = history(X[rows])
        state = np.zeros(1, STATE)
        state["n"], state["ts"] = len(rows), float(micros[rows[-1]])
        state["mean"], state["var"] = mean, var
        out[str(entity)] = state.tobytes()
    return out


class OnlineFeatures:
    """Per-entity baselines in Redis: updated by ingest, read by scoring."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis | None = None,
        on_degraded: Callable[[], None] | None = None,
    ) -> None:
        self.prefix = namespace(settings) + "baseline:"
        self.ttl_s = settings.online_ttl_s
        self.redis = client or redis_client(settings)
        self.breaker = Breaker(self.redis, settings.redis_retry_s)
        self._update = self.redis.register_script(UPDATE)
        self._restore = self.redis.register_script(RESTORE)
        self.cache_s = settings.online_cache_s
        self._cache: OrderedDict[str, tuple[float, bytes | None]] = OrderedDict()
        self.on_degraded = on_degraded

    def key(self, entity_id: str) -> str:
        return self.prefix + entity_id

    async def update(self, ts: np.ndarray, entity_ids: np.ndarray, X: np.ndarray) -> int:
        """Apply rows (``datetime64`` times, ids, encoded metrics ``X``) to the baselines.

        Returns how many rows moved a baseline (older or repeated rows do not). Raises
        :class:`redis.exceptions.RedisError` when Redis is unreachable.
        """
        for entity in set(entity_ids.tolist()):
            self._cache.pop(entity, None)
        micros = ts.astype("datetime64[us]").astype(np.int64)
        order = np.lexsort((micros, entity_ids.astype(str)))
        packed = np.column_stack([micros.astype(np.float64), X.astype(np.float64)])[order]
        ids = entity_ids[order]
        starts = np.r_[0, np.flatnonzero(ids[1:] != ids[:-1]) + 1, len(ids)]
        applied, keys, args, pending = 0, [], [], 0
        for first, stop in itertools.pairwise(starts):
            keys.append(self.key(ids[first]))
            args.append(packed[first:stop].astype("<f8").tobytes())
            pending += stop - first
            if pending >= ROWS_PER_CALL:
                applied += await self._call(keys, args)
                keys, args, pending = [], [], 0
        if keys:
            applied += await self._call(keys, args)
        return applied

    async def _call(self, keys: list[str], args: list[bytes]) -> int:
        head = [repr(ALPHA), repr(DECAY), repr(DECAY * ALPHA), self.ttl_s, K]
        return int(await self._update(keys=keys, args=[*head, *args]))

    async def baselines(self, entity_ids: Sequence[str | None]) -> tuple[Baselines, bool]:
        """Each row's entity baseline, and whether Redis failed to supply them (degraded).

        Rows without an entity, entities never seen, and every row when Redis is down
        get count 0: zero z-scores.
        """
        n = len(entity_ids)
        count = np.zeros(n, dtype=np.int64)
        mean = np.zeros((n, K))
        var = np.zeros((n, K))
        named = sorted({e for e in entity_ids if e is not None})
        if not named:
            return Baselines(count, mean, var), False
        known, missing, now = {}, [], time.monotonic()
        for entity in named:
            hit = self._cache.get(entity)
            if hit is not None and hit[0] > now:
                known[entity] = hit[1]
            else:
                missing.append(entity)
        if missing:
            if self.breaker.open:
                return self._degraded(Baselines(count, mean, var))
            keys = [self.key(entity) for entity in missing]
            try:
                states = await self.breaker.call(lambda: self.redis.mget(keys))
            except (RedisError, OSError) as exc:
                log.warning("Redis unavailable for online features (%s); scoring degraded", exc)
                return self._degraded(Baselines(count, mean, var))
            for entity, state in zip(missing, states, strict=True):
                known[entity] = state
                if self.cache_s > 0:
                    self._cache[entity] = (now + self.cache_s, state)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        stored = [e for e in named if known.get(e)]
        if stored:  # decode each entity's state once, then spread it over its rows
            states = np.frombuffer(b"".join(known[e] for e in stored), STATE)
            at = {e: i for i, e in enumerate(stored)}
            which = np.array([at.get(e, -1) if e is not None else -1 for e in entity_ids])
            rows = which >= 0
            count[rows] = states["n"][which[rows]].astype(np.int64)
            mean[rows] = states["mean"][which[rows]]
            var[rows] = states["var"][which[rows]]
        return Baselines(count, mean, var), False

    def _degraded(self, empty: Baselines) -> tuple[Baselines, bool]:
        if self.on_degraded is not None:
            self.on_degraded()
        return empty, True

    async def zscores(
        self, entity_ids: Sequence[str | None], X: np.ndarray
    ) -> tuple[np.ndarray, bool]:
        """Derived features of encoded rows ``X`` and the degraded flag."""
        baselines, degraded = await self.baselines(entity_ids)
        return zscores(X, baselines), degraded

    async def restore(self, packed: dict[str, bytes]) -> int:
        """Write rebuilt baselines (see :func:`states`) where Redis has none as new."""
        self._cache.clear()
        entities = list(packed)
        written = 0
        for start in range(0, len(entities), 1000):
            chunk = entities[start : start + 1000]
            keys = [self.key(e) for e in chunk]
            args = [self.ttl_s, *(packed[e] for e in chunk)]
            written += int(await self._restore(keys=keys, args=args))
        return written

    async def forget(self, prefix: str | None = None) -> int:
        """Delete every baseline (or every key under ``prefix``); returns how many."""
        self._cache.clear()
        pattern = f"{prefix or self.prefix}*"
        keys = [key async for key in self.redis.scan_iter(pattern, count=1000)]
        return await self.redis.delete(*keys) if keys else 0

    async def close(self) -> None:
        await self.redis.aclose()
