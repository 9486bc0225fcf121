"""Refusals: the errors a request can meet, and the one place each becomes an answer.

A refused request raises :class:`RequestError` wherever the refusal is found (body
limits, validation, the gate, the rate limiter, ingest, the Open Inference Protocol's
codec); :func:`refusal` turns it into the status, body and headers to answer with, for
the fast path and FastAPI's handler alike. The body takes its route's protocol shape:
``/v1`` answers ``{"detail": ...}`` (FastAPI's own shape), V2 ``{"error": "..."}``, which
KServe, Triton and MLServer clients decode.
"""

from __future__ import annotations

from typing import Any

import orjson

from aetheredge.api.routes import protocol


class RequestError(Exception):
    """A refused request: the HTTP status, the ``/v1`` JSON body and extra headers."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.headers = headers or {}

    def content(self, path: str) -> dict[str, Any]:
        """The JSON body to answer with on ``path``: on the Open Inference Protocol's
        routes the reason is its ``{"error": ...}``."""
        detail = self.body.get("detail")
        if protocol(path) == "v2" and isinstance(detail, str):
            return {"error": detail}
        return self.body


class ProtocolError(RequestError, ValueError):
    """A request the Open Inference Protocol refuses: ``{"error": message}``, ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(status, {"detail": message})
        self.args = (message,)


def refusal(exc: RequestError, path: str) -> tuple[int, bytes, dict[str, str]]:
    """The status, JSON body and headers (``Retry-After``, ``WWW-Authenticate``...) of a
    request to ``path`` refused with ``exc``."""
    return exc.status, orjson.dumps(exc.content(path)), exc.headers
