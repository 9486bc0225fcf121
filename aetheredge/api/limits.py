"""Body limits: how large a request body may be and how long it may take to arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aetheredge.api.errors import RequestError


def late_body(timeout_s: float) -> str:
    """Why a body that did not arrive in time is refused (408)."""
    return f"the body did not arrive within {timeout_s:g} s"


@dataclass(frozen=True)
class BodyLimit:
    """How large a request body may be, and how long it may take to arrive.

    The deadline is the defence against slow clients (slowloris): a body trickling in
    would otherwise hold one of a replica's request slots for as long as it likes.
    """

    max_bytes: int
    timeout_s: float = 10.0

    def check(self, length: int) -> None:
        """Refuse (413) a body of ``length`` bytes, declared or found, over the limit."""
        if length > self.max_bytes:
            raise RequestError(
                413, {"detail": f"body of {length} bytes exceeds {self.max_bytes} bytes"}
            )

    async def read(self, declared: str | None, chunks: AsyncIterator[bytes]) -> bytes:
        """The body arriving in ``chunks``: 400 for a ``Content-Length`` (``declared``)
        that is not a number, 413 as soon as it is (or grows) too large, 408 when it has
        not all arrived within ``timeout_s``."""
        if declared is not None:
            if not declared.isdigit():
                raise RequestError(400, {"detail": "Content-Length must be a number of bytes"})
            self.check(int(declared))
        parts, size = [], 0
        try:
            async with asyncio.timeout(self.timeout_s):
                async for chunk in chunks:
                    size += len(chunk)
                    self.check(size)
                    parts.append(chunk)
        except TimeoutError:
            raise RequestError(  # the rest of the body may still come: end the connection
                408,
                {"detail": late_body(self.timeout_s)},
                {"Connection": "close"},
            ) from None
        return b"".join(parts)
