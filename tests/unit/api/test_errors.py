"""Every refusal becomes an answer in one place, in the shape of its route's protocol."""

import orjson
import pytest

from aetheredge.api import routes
from aetheredge.api.errors import ProtocolError, RequestError, refusal


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        (routes.score_path("anomaly"), {"detail": "slow down"}),
        (routes.V1_TELEMETRY, {"detail": "slow down"}),
        (routes.infer_path("cost"), {"error": "slow down"}),
        (routes.V2_MODEL_VERSION_READY.format(name="cost", version="3"), {"error": "slow down"}),
        (routes.V2, {"error": "slow down"}),
    ],
)
def test_a_refusal_takes_its_route_s_protocol_shape(path, shape):
    exc = RequestError(429, {"detail": "slow down"}, {"Retry-After": "1"})
    assert refusal(exc, path) == (429, orjson.dumps(shape), {"Retry-After": "1"})


def test_field_errors_keep_their_list_on_every_route():
    detail = [{"loc": ["body", "rows", 0], "msg": "missing"}]
    exc = RequestError(422, {"detail": detail})
    for path in (routes.score_path("cost"), routes.infer_path("cost")):
        assert orjson.loads(refusal(exc, path)[1]) == {"detail": detail}


def test_a_protocol_error_is_a_refusal_answered_as_v2_expects():
    exc = ProtocolError("shape [2, 3] does not match [-1, 14]", 400)
    assert isinstance(exc, RequestError) and isinstance(exc, ValueError)
    assert str(exc) == "shape [2, 3] does not match [-1, 14]"
    status, body, _ = refusal(exc, routes.infer_path("anomaly"))
    assert (status, orjson.loads(body)) == (400, {"error": str(exc)})


def test_routes_know_their_protocol_and_scope():
    assert routes.protocol("/v2x") == "v1"  # only /v2 and what is under it
    assert routes.scope(routes.V1_TELEMETRY) == "ingest"
    assert routes.scope(routes.infer_path("anomaly")) == "score"
    assert {routes.scope(p) for p in routes.OPEN} == {None}
