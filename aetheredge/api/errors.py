"""Refusals: every error a request can meet, and the one way each becomes an HTTP answer.

A refused request raises :class:`RequestError` wherever the refusal is found (body
limits, validation, the gate, the rate limiter, ingest); the HTTP shell turns it into a
response in one place.
"""

from __future__ import annotations

from typing import Any


class RequestError(Exception):
    """A refused request: the HTTP status and the JSON body to answer with."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def content(self, path: str) -> dict[str, Any]:
        """The JSON body to answer with on ``path``: on the Open Inference Protocol's
        routes (``/v2``) the reason is its ``{"error": ...}``, which V2 clients decode."""
        detail = self.body.get("detail")
        if path.startswith("/v2") and isinstance(detail, str):
            return {"error": detail}
        return self.body
