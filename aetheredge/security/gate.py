"""API keys for the scoring and ingest API: bearer keys, stored as hashes, with scopes.

``AETHER_API_KEYS`` is a JSON list of ``{"name", "sha256", "scopes"}``: the SHA-256 of
each key, never the key. ``aetheredge keys new`` makes a key and prints it once beside
the entry to add. A presented key is hashed and compared with every stored hash in
constant time (:func:`hmac.compare_digest`, no early exit), so neither a timing nor a
log line tells anything about a key. Scopes: ``score`` (scoring, model metadata),
``ingest`` (telemetry) and ``admin`` (everything).

With no keys configured the API is open (local ``make up``); it says so in a warning,
and ``AETHER_REQUIRE_API_KEYS`` (set by the Kubernetes manifests) refuses to start so.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets

from aetheredge.api import routes
from aetheredge.api.errors import RequestError
from aetheredge.security.ratelimit import RateLimiter
from aetheredge.settings import Settings
from aetheredge.settings.security import ApiKey, Scope

log = logging.getLogger(__name__)

PREFIX = "ae_"  # makes a leaked key easy to recognise (and to scan for)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh random key (256 bits) and its hash."""
    key = PREFIX + secrets.token_urlsafe(32)
    return key, digest(key)


_BEARER = re.compile(r"^Bearer +(\S+) *$", re.IGNORECASE)


def unauthorized(reason: str) -> RequestError:
    return RequestError(401, {"detail": reason}, {"WWW-Authenticate": 'Bearer realm="aetheredge"'})


class KeyRing:
    """The configured keys; answers who a request's ``Authorization`` header is."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = keys

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def identify(self, authorization: str | None) -> ApiKey:
        """The key behind ``authorization`` (``Bearer <key>``); 401 when there is none."""
        if not authorization:
            raise unauthorized("an API key is required: Authorization: Bearer <key>")
        match = _BEARER.match(authorization)
        if match is None:
            raise unauthorized("the Authorization header must be: Bearer <key>")
        presented = digest(match.group(1)).encode()
        found = None
        for key in self.keys:  # every key, always: the time taken says nothing
            if hmac.compare_digest(presented, key.sha256.encode()):
                found = key
        if found is None:
            raise unauthorized("unknown API key")
        return found

    def authorize(self, authorization: str | None, scope: Scope) -> ApiKey:
        """The key, if it may act in ``scope``: 401 without a valid key, 403 without scope."""
        key = self.identify(authorization)
        if not key.allows(scope):
            raise RequestError(403, {"detail": f"API key '{key.name}' lacks scope '{scope}'"})
        return key


class Gate:
    """Admits one HTTP request: a key with the route's scope, then a token from that
    key's rate limit. Only built when keys are configured: an open API has no gate."""

    def __init__(self, keys: KeyRing, limiter: RateLimiter | None) -> None:
        self.keys = keys
        self.limiter = limiter

    @classmethod
    def from_settings(cls, settings: Settings) -> Gate | None:
        """The gate ``settings`` describe; None when no key is configured (the API is open,
        and a warning says so). Refuses (ValueError) a required but empty ring."""
        keys = KeyRing(settings.api_keys)
        if not keys.enabled:
            if settings.require_api_keys:
                raise ValueError("AETHER_REQUIRE_API_KEYS is set but AETHER_API_KEYS is empty")
            log.warning("no API keys configured (AETHER_API_KEYS): the API is open to anyone")
            return None
        return cls(keys, RateLimiter(settings) if settings.rate_limit_rps > 0 else None)

    async def admit(self, path: str, authorization: str | None) -> ApiKey | None:
        """The request's key (None on an open route); raises the refusal."""
        scope = routes.scope(path)
        if scope is None:
            return None
        key = self.keys.authorize(authorization, scope)
        if self.limiter is not None:
            await self.limiter.take(key.name)
        return key
