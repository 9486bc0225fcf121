"""The shape of a configured API key (``AETHER_API_KEYS``) and the scopes it may hold."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Scope = Literal["score", "ingest", "admin"]


class ApiKey(BaseModel):
    """One API key as configured: a name for logs and limits, the key's SHA-256 (never
    the key), and what it may do (``admin``: everything)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: frozenset[Scope] = Field(min_length=1)

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or "admin" in self.scopes
