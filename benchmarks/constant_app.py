"""The ceiling of ``benchmarks.http_load``: a Serve deployment that returns a constant.

Same ingress, same cluster, no parsing and no model: what Ray Serve itself can answer.
"""

from __future__ import annotations

from ray import serve
from starlette.requests import Request
from starlette.responses import Response

BODY = b'{"model":"anomaly","version":"0","threshold":0.5,"results":[]}'


@serve.deployment(max_ongoing_requests=128)
class Constant:
    async def __call__(self, request: Request) -> Response:
        await request.body()
        return Response(BODY, media_type="application/json")


app = Constant.bind()
