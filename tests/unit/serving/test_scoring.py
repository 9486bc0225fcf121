"""The scoring request logic (``/v1`` and the Open Inference Protocol), without Ray."""

import asyncio

import numpy as np
import orjson
import pytest

from aetheredge import kinds
from aetheredge.api.errors import ProtocolError, RequestError
from aetheredge.api.limits import BodyLimit
from aetheredge.api.v2 import HEADER_LENGTH
from tests.support.rows import GOOD_METRICS, GOOD_USAGE


def run(coro):
    return asyncio.run(coro)


def test_v1_scores_rows_and_echoes_entities(service):
    body = orjson.dumps({"rows": [GOOD_METRICS | {"entity_id": "web-1"}, GOOD_METRICS]})
    out = orjson.loads(run(service.v1("anomaly", body)))
    assert out["version"] == "1" and out["model"] == "anomaly"
    assert [r["entity_id"] for r in out["results"]] == ["web-1", None]
    assert out["results"][0]["score"] == out["results"][1]["score"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"rows": [{"cpu_util": 0.5}]}', ["body", "rows", 0, "mem_util"]),
        (b'{"rows": []}', ["body", "rows"]),
        (b'{"rows": [{"cpu_util": NaN}]}', ["body", "rows", 0, "cpu_util"]),
        (b"not json", ["body"]),
    ],
)
def test_v1_refuses_bad_bodies_with_422_naming_the_field(service, body, where):
    with pytest.raises(RequestError) as caught:
        run(service.v1("anomaly", body))
    assert caught.value.status == 422
    assert caught.value.body["detail"][0]["loc"][: len(where)] == where


def test_oversized_bodies_are_413(service):
    rows = orjson.dumps({"rows": [GOOD_METRICS] * 1000})
    with pytest.raises(RequestError) as caught:
        run(service.v1("anomaly", rows))
    assert caught.value.status == 413


async def _trickle(parts: list[bytes], pause_s: float):
    for part in parts:
        await asyncio.sleep(pause_s)
        yield part


@pytest.mark.parametrize(
    ("declared", "parts", "pause_s", "status"),
    [
        ("12", [b"x" * 6, b"x" * 6], 0.0, None),
        (None, [b"x" * 6, b"x" * 6], 0.0, None),
        ("4096", [b"x"], 0.0, 413),  # declared too large: refused before reading
        (None, [b"x" * 600] * 2, 0.0, 413),  # found too large while reading
        ("12x", [b"x"], 0.0, 400),  # not a length at all
        ("-1", [b"x"], 0.0, 400),
        ("12", [b"x" * 6] * 5, 0.05, 408),  # a slow client: the deadline ends it
    ],
)
def test_body_limit_refuses_large_slow_and_garbled_bodies(declared, parts, pause_s, status):
    limit = BodyLimit(max_bytes=1024, timeout_s=0.12)
    if status is None:
        assert run(limit.read(declared, _trickle(parts, pause_s))) == b"".join(parts)
        return
    with pytest.raises(RequestError) as caught:
        run(limit.read(declared, _trickle(parts, pause_s)))
    assert caught.value.status == status and caught.value.body["detail"]


def test_v2_metadata_names_the_input_and_outputs(service):
    meta = service.metadata("anomaly")
    assert meta.inputs[0].shape == [-1, 8] and meta.versions == ["1"]
    assert [(o.name, o.datatype) for o in meta.outputs] == [
        ("score", "FP64"),
        ("is_anomaly", "BOOL"),
    ]
    cost = kinds.get("cost").input_names
    assert service.metadata("cost", "1").inputs[0].shape == [-1, len(cost)]
    assert service.model_ready("cost").ready


def _infer(service, name, request, version=None, tail=b""):
    header = orjson.dumps(request)
    length = str(len(header)) if tail else None
    body, json_len = run(service.infer(name, version, header + tail, length))
    return body, json_len


def test_v2_infer_takes_flat_nested_fp32_and_fp64_data_alike(service):
    row = list(GOOD_METRICS.values())
    outs = []
    for datatype, data in (("FP32", row * 2), ("FP64", [row, row])):
        request = {
            "inputs": [{"name": "features", "shape": [2, 8], "datatype": datatype, "data": data}]
        }
        body, _ = _infer(service, "anomaly", request)
        outs.append(orjson.loads(body))
    assert outs[0]["outputs"][0]["name"] == "score"
    assert outs[0]["outputs"][1]["datatype"] == "BOOL"
    np.testing.assert_allclose(
        outs[0]["outputs"][0]["data"], outs[1]["outputs"][0]["data"], rtol=1e-6
    )
    v1 = orjson.loads(run(service.v1("anomaly", orjson.dumps({"rows": [GOOD_METRICS]}))))
    assert outs[1]["outputs"][0]["data"][0] == pytest.approx(v1["results"][0]["score"], rel=1e-6)


def test_v2_binary_tensors_in_and_out(service):
    X = np.tile(np.array(list(GOOD_METRICS.values()), dtype=np.float32), (3, 1))
    request = {
        "id": "r1",
        "inputs": [
            {
                "name": "features",
                "shape": [3, 8],
                "datatype": "FP32",
                "parameters": {"binary_data_size": X.nbytes},
            }
        ],
        "outputs": [{"name": "score", "parameters": {"binary_data": True}}],
    }
    body, json_len = _infer(service, "anomaly", request, tail=X.tobytes())
    header = orjson.loads(body[:json_len])
    assert header["id"] == "r1" and [o["name"] for o in header["outputs"]] == ["score"]
    scores = np.frombuffer(body[json_len:], dtype="<f8")
    assert scores.shape == (3,) and np.all(scores == scores[0])


def test_cost_tensor_takes_one_hot_categoricals(service):
    spec = kinds.get("cost")
    row = spec.encode({name: [value] for name, value in GOOD_USAGE.items()})[0].tolist()
    request = {
        "inputs": [{"name": "features", "shape": [1, len(row)], "datatype": "FP64", "data": row}]
    }
    body, _ = _infer(service, "cost", request)
    assert orjson.loads(body)["outputs"][0]["data"][0] > 0
    provider = spec.input_names.index("provider=Microsoft")
    request["inputs"][0]["data"] = [*row[:provider], 1, *row[provider + 1 :]]  # two providers
    with pytest.raises(ProtocolError, match="row 0, feature provider=AWS"):
        _infer(service, "cost", request)


@pytest.mark.parametrize(
    ("name", "version", "tensor", "status", "message"),
    [
        ("nope", None, {}, 404, "unknown model"),
        ("anomaly", "9", {}, 404, "version '9' is not served"),
        ("anomaly", None, {"datatype": "INT64"}, 400, "not supported"),
        ("anomaly", None, {"shape": [1, 7]}, 400, "does not match"),
        ("anomaly", None, {"data": [1.0] * 7}, 400, "do not fill"),
        ("anomaly", None, {"data": ["a"] * 8}, 400, "must be numbers"),
        ("anomaly", None, {"data": [2.0] + [0.0] * 7}, 400, "feature cpu_util"),
        ("anomaly", None, {"name": "x"}, 400, "exactly one input"),
    ],
)
def test_v2_errors_are_400_or_404_with_a_message(service, name, version, tensor, status, message):
    base = {"name": "features", "shape": [1, 8], "datatype": "FP32", "data": [0.1] * 8}
    with pytest.raises(ProtocolError, match=message) as caught:
        _infer(service, name, {"inputs": [base | tensor]}, version)
    assert caught.value.status == status


def test_binary_header_length_must_fit_the_body(service):
    with pytest.raises(ProtocolError, match=HEADER_LENGTH):
        run(service.infer("anomaly", None, b"{}", "99"))
