"""The HTTP fast path of the scoring routes, as ASGI, without Ray."""

import asyncio

import httpx
import numpy as np
import orjson
import pytest

from serve.fastpath import ROUTES, ScoringAPI
from tests.support.rows import GOOD_METRICS, GOOD_USAGE


@pytest.fixture(scope="module")
def app(service):
    app = ScoringAPI()

    @app.get("/elsewhere")
    async def elsewhere() -> dict[str, str]:
        return {"via": "fastapi"}

    app.state.service = service
    return app


def call(app, method, path, **kwargs):
    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_scoring_routes_answer_with_the_service(app):
    response = call(app, "POST", "/v1/anomaly/score", json={"rows": [GOOD_METRICS]})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json()["results"][0]["score"] > 0
    cost = call(app, "POST", "/v1/cost/predict", json={"rows": [GOOD_USAGE, GOOD_USAGE]})
    assert len(cost.json()["results"]) == 2


def test_v2_infer_binary_out_sets_the_header_length(app):
    X = np.array([list(GOOD_METRICS.values())], dtype=np.float32)
    request = {
        "inputs": [
            {"name": "features", "shape": [1, 8], "datatype": "FP32", "data": X.ravel().tolist()}
        ],
        "outputs": [{"name": "score", "parameters": {"binary_data": True}}],
    }
    response = call(app, "POST", "/v2/models/anomaly/infer", content=orjson.dumps(request))
    length = int(response.headers["inference-header-content-length"])
    assert orjson.loads(response.content[:length])["outputs"][0]["name"] == "score"
    assert np.frombuffer(response.content[length:], "<f8").shape == (1,)


@pytest.mark.parametrize(
    ("path", "body", "status", "key"),
    [
        ("/v1/anomaly/score", b'{"rows": [{"cpu_util": "high"}]}', 422, "detail"),
        ("/v1/anomaly/score", b"[" * 70_000, 413, "detail"),
        ("/v2/models/anomaly/infer", b'{"inputs": []}', 400, "error"),
    ],
)
def test_refusals_are_4xx_json(app, path, body, status, key):
    response = call(app, "POST", path, content=body)
    assert response.status_code == status and key in response.json()


def test_other_requests_reach_fastapi(app):
    assert call(app, "GET", "/elsewhere").json() == {"via": "fastapi"}
    assert call(app, "GET", "/v1/anomaly/score").status_code in (404, 405)
    assert set(ROUTES) >= {"/v1/anomaly/score", "/v2/models/cost/infer"}
