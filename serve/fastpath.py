"""A raw ASGI fast path for the scoring routes, ahead of the FastAPI app, behind the gate.

Every HTTP request first passes ``state.gate`` (:class:`aetheredge.security.gate.Gate`: API key,
scope, rate limit), whichever of the two answers it.

The FastAPI routes in ``serve/app.py`` define and document the API. For the four hot
routes :class:`ScoringAPI` answers first, calling the same :class:`ScoringService`
methods, but without FastAPI's telemetry, Starlette's middleware stack and routing,
FastAPI's dependency solving and its response-model pass: together they cost more than
scoring one row with a compiled forest. Everything else (other paths, versioned V2
paths, docs) goes to FastAPI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from aetheredge import kinds
from aetheredge.api import routes
from aetheredge.api.errors import RequestError, refusal
from aetheredge.api.v2 import HEADER_LENGTH
from aetheredge.security.gate import Gate
from aetheredge.serving.scoring import ScoringService

WANTED_HEADERS = {b"content-length", HEADER_LENGTH.encode()}
JSON = [(b"content-type", b"application/json")]
Headers = list[tuple[bytes, bytes]]
Handler = Callable[[ScoringService, bytes, dict[str, str]], Awaitable[tuple[bytes, Headers]]]


def v1_route(kind: Any) -> Handler:
    """Scores a ``/v1`` body of rows for model ``kind``."""

    async def handle(service: ScoringService, body: bytes, _: dict[str, str]):
        return await service.v1(kind, body), JSON

    return handle


def v2_route(name: str, version: str | None = None) -> Handler:
    """Answers an Open Inference Protocol ``infer`` request for model ``name``."""

    async def handle(service: ScoringService, body: bytes, headers: dict[str, str]):
        out, header_length = await service.infer(name, version, body, headers.get(HEADER_LENGTH))
        if header_length is None:
            return out, JSON
        return out, [
            (b"content-type", b"application/octet-stream"),
            (HEADER_LENGTH.encode(), str(header_length).encode()),
        ]

    return handle


ROUTES: dict[str, Handler] = {
    **{routes.score_path(kind): v1_route(kind) for kind in kinds.names()},
    **{routes.infer_path(kind): v2_route(kind) for kind in kinds.names()},
}


def refused(exc: RequestError, path: str) -> tuple[int, bytes, Headers]:
    """:func:`aetheredge.api.errors.refusal` as ASGI headers."""
    status, body, headers = refusal(exc, path)
    return status, body, [*JSON, *((k.encode(), v.encode()) for k, v in headers.items())]


async def reply(
    handler: Handler, service: ScoringService, body: bytes, headers: dict[str, str], path: str
) -> tuple[int, bytes, Headers]:
    """Status, body and headers of ``handler``'s answer to a request to ``path``;
    refusals become their 4xx."""
    try:
        out, response_headers = await handler(service, body, headers)
        return 200, out, response_headers
    except RequestError as exc:
        return refused(exc, path)


class ScoringAPI(FastAPI):
    """FastAPI that answers POSTs to :data:`ROUTES` itself, ahead of everything else.

    The service is ``state.service``, set by the deployment once built; until then,
    and for every other request, FastAPI handles the request as usual.
    """

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        http = scope["type"] == "http"
        gate: Gate | None = getattr(self.state, "gate", None)
        if http and gate is not None:
            authorization = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None
            )
            try:
                await gate.admit(scope["path"], authorization)
            except RequestError as exc:
                return await _send(send, *refused(exc, scope["path"]))
        handler = ROUTES.get(scope.get("path", "")) if http else None
        service: ScoringService | None = getattr(self.state, "service", None)
        if handler is None or scope["method"] != "POST" or service is None:
            return await super().__call__(scope, receive, send)
        headers = {
            name.decode(): value.decode()
            for name, value in scope["headers"]
            if name in WANTED_HEADERS
        }
        try:
            body = await service.body.read(headers.get("content-length"), _chunks(receive))
        except RequestError as exc:
            status, out, response_headers = refused(exc, scope["path"])
        else:
            status, out, response_headers = await reply(
                handler, service, body, headers, scope["path"]
            )
        await _send(send, status, out, response_headers)


async def _send(send: Callable, status: int, body: bytes, headers: Headers) -> None:
    """One whole ASGI response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _chunks(receive: Callable) -> AsyncIterator[bytes]:
    """The body chunks of an ASGI request."""
    while True:
        message = await receive()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
