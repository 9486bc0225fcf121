"""API keys (hashes, scopes), the Redis token bucket, and the gate in front of every HTTP
request of the scoring app, in process, against the real Redis."""

import asyncio
import time

import httpx
import pytest

from aetheredge.api.errors import RequestError
from aetheredge.security.gate import Gate, KeyRing, digest, new_key
from aetheredge.security.ratelimit import RateLimiter
from aetheredge.settings import Settings
from aetheredge.settings.security import ApiKey
from serve.fastpath import ScoringAPI
from tests.support.outages import redis_behind_proxy

SCORE_KEY, SCORE_HASH = new_key()
INGEST_KEY, INGEST_HASH = new_key()
ADMIN_KEY, ADMIN_HASH = new_key()
KEYS = [
    ApiKey(name="dashboards", sha256=SCORE_HASH, scopes=frozenset({"score"})),
    ApiKey(name="collector", sha256=INGEST_HASH, scopes=frozenset({"ingest"})),
    ApiKey(name="ops", sha256=ADMIN_HASH, scopes=frozenset({"admin"})),
]


def _refusal(call) -> RequestError:
    with pytest.raises(RequestError) as caught:
        call()
    return caught.value


def test_keys_are_hashes_and_scopes_decide():
    ring = KeyRing(KEYS)
    assert ring.authorize(f"Bearer {SCORE_KEY}", "score").name == "dashboards"
    assert ring.authorize(f"bearer  {ADMIN_KEY}", "ingest").name == "ops"  # admin: all
    assert len(SCORE_KEY) > 40 and digest(SCORE_KEY) == SCORE_HASH
    for header, says in [
        (None, "an API key is required"),
        (SCORE_KEY, "must be: Bearer <key>"),
        ("Bearer ae_not-a-key", "unknown API key"),
    ]:
        refused = _refusal(lambda h=header: ring.authorize(h, "score"))
        assert refused.status == 401 and says in refused.body["detail"]
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = _refusal(lambda: ring.authorize(f"Bearer {SCORE_KEY}", "ingest"))
    assert wrong.status == 403 and wrong.body == {
        "detail": "API key 'dashboards' lacks scope 'ingest'"
    }
    # no refusal ever echoes a key
    assert SCORE_KEY not in str(wrong.body) and "ae_not-a-key" not in str(refused.body)


def test_keys_come_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv(
        "AETHER_API_KEYS", f'[{{"name":"dashboards","sha256":"{SCORE_HASH}","scopes":["score"]}}]'
    )
    assert Settings().api_keys == KEYS[:1]
    monkeypatch.setenv("AETHER_API_KEYS", '[{"name":"a","sha256":"plaintext","scopes":["score"]}]')
    with pytest.raises(ValueError, match="sha256"):
        Settings()


def test_required_keys_refuse_an_open_api(db_settings):
    with pytest.raises(ValueError, match="AETHER_API_KEYS is empty"):
        Gate.from_settings(db_settings.model_copy(update={"require_api_keys": True}))
    assert Gate.from_settings(db_settings) is None  # no keys: no gate, nothing per request


def test_token_bucket_is_atomic_across_concurrent_requests(db_settings):
    settings = db_settings.model_copy(update={"rate_limit_rps": 0.01, "rate_limit_burst": 10})

    async def scenario():
        limiter = RateLimiter(settings)
        name = f"burst-{time.time_ns()}"
        outcomes = await asyncio.gather(
            *(limiter.take(name) for _ in range(50)), return_exceptions=True
        )
        await limiter.redis.aclose()
        return outcomes

    outcomes = asyncio.run(scenario())
    refused = [o for o in outcomes if isinstance(o, RequestError)]
    assert len(refused) == 40 and all(o.status == 429 for o in refused)
    assert {o.headers["Retry-After"] for o in refused} == {"100"}  # 1 token at 0.01/s


def test_bucket_refills_at_its_rate(db_settings):
    settings = db_settings.model_copy(update={"rate_limit_rps": 4.0, "rate_limit_burst": 2})

    async def scenario():
        limiter = RateLimiter(settings)
        name = f"refill-{time.time_ns()}"
        await limiter.take(name)
        await limiter.take(name)
        with pytest.raises(RequestError) as caught:
            await limiter.take(name)
        await asyncio.sleep(0.3)  # 1.2 tokens back
        await limiter.take(name)
        await limiter.redis.aclose()
        return caught.value

    refused = asyncio.run(scenario())
    assert refused.status == 429 and refused.headers["Retry-After"] == "1"


def test_limiter_lets_requests_through_while_redis_is_down(db_settings):
    async def scenario():
        proxy, settings = await redis_behind_proxy(
            db_settings, rate_limit_rps=0.01, rate_limit_burst=1
        )
        limiter = RateLimiter(settings)
        name = f"outage-{time.time_ns()}"
        await limiter.take(name)
        await proxy.cut()
        for _ in range(5):
            await limiter.take(name)  # passes: no store, no limit
        degraded = limiter.degraded
        await limiter.redis.aclose()
        return degraded

    assert asyncio.run(scenario()) is True


def _app(gate: Gate) -> ScoringAPI:
    app = ScoringAPI()

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"ok": True}

    @app.get("/v1/models")
    async def models() -> dict:
        return {"models": []}

    @app.post("/v1/telemetry")
    async def telemetry() -> dict:
        return {"stored": 0}

    app.state.gate = gate
    return app


def test_every_request_passes_the_gate_first(db_settings):
    settings = db_settings.model_copy(
        update={"api_keys": KEYS, "rate_limit_rps": 0.01, "rate_limit_burst": 2}
    )

    async def scenario():
        gate = Gate.from_settings(settings)
        transport = httpx.ASGITransport(app=_app(gate))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            def auth(key: str) -> dict:
                return {"Authorization": f"Bearer {key}"}

            answers = {
                "health": await client.get("/healthz"),
                "anonymous": await client.get("/v1/models"),
                "fast path": await client.post("/v1/anomaly/score", content=b"{}"),
                "v2": await client.post("/v2/models/anomaly/infer", content=b"{}"),
                "score": await client.get("/v1/models", headers=auth(SCORE_KEY)),
                "wrong scope": await client.post("/v1/telemetry", headers=auth(SCORE_KEY)),
                "ingest": await client.post("/v1/telemetry", headers=auth(INGEST_KEY)),
            }
            # "dashboards" has used 1 of its 2 tokens (a refusal takes none): one more, then 429
            answers["last token"] = await client.get("/v1/models", headers=auth(SCORE_KEY))
            answers["limited"] = await client.get("/v1/models", headers=auth(SCORE_KEY))
            answers["other key"] = await client.get("/v1/models", headers=auth(ADMIN_KEY))
        await gate.limiter.redis.aclose()
        return answers

    answers = asyncio.run(scenario())
    status = {name: answer.status_code for name, answer in answers.items()}
    assert status == {
        "health": 200,
        "anonymous": 401,
        "fast path": 401,
        "v2": 401,
        "score": 200,
        "wrong scope": 403,
        "ingest": 200,
        "last token": 200,
        "limited": 429,
        "other key": 200,
    }
    assert answers["anonymous"].headers["www-authenticate"].startswith("Bearer")
    assert int(answers["limited"].headers["retry-after"]) >= 1
    assert answers["limited"].json()["detail"].startswith("rate limit")
    # the Open Inference Protocol's routes refuse in its own shape, which V2 clients decode
    assert answers["v2"].json() == {"error": answers["fast path"].json()["detail"]}


INFER = "/v2/models/{name}/infer"


def test_openapi_declares_the_key_on_guarded_routes():
    from serve.app import api

    schema = api.openapi()
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    paths = schema["paths"]
    assert paths["/v1/anomaly/score"]["post"]["security"] == [{"apiKey": []}]
    assert set(paths["/v1/telemetry"]["post"]["responses"]) >= {"401", "403", "429"}
    assert "security" not in paths["/healthz"]["get"]
    v1, v2 = (paths[p]["post"]["responses"]["401"] for p in ("/v1/cost/predict", INFER))
    assert v1["content"]["application/json"]["schema"]["$ref"].endswith("/Refusal")
    assert v2["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
