"""Who may call what: the API keys a service accepts, the one a client presents, the rate
limit, and the shape of a configured key (``AETHER_API_KEYS``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

Scope = Literal["score", "ingest", "admin"]


class ApiKey(BaseModel):
    """One API key as configured: a name for logs and limits, the key's SHA-256 (never
    the key), and what it may do (``admin``: everything)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: frozenset[Scope] = Field(min_length=1)

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or "admin" in self.scopes


class SecuritySettings(BaseModel):
    """API keys and the per-key rate limit."""

    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description="JSON list of {name, sha256, scopes}; `aetheredge keys new` makes one. "
        "Empty: the API is open (a warning says so).",
    )
    require_api_keys: bool = Field(
        default=False, description="Refuse to serve without API keys (set in Kubernetes)."
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="The key this side presents (CLI, client) to a service that wants one.",
    )
    rate_limit_rps: float = Field(
        default=100.0, ge=0.0, description="Requests per second per API key; 0: no limit."
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, description="Requests a key may send at once after a quiet spell."
    )
