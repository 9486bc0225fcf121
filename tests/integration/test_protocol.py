"""Open Inference Protocol (KServe V2) against the running service, with Triton's client."""

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from aetheredge import kinds
from aetheredge.datasets.synthetic import telemetry

pytestmark = pytest.mark.integration


class Key(triton.InferenceServerClientPlugin):
    """Adds the tests' API key to every request of a Triton client."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def __call__(self, request) -> None:
        request.headers.update(self.headers)


@pytest.fixture(scope="module")
def client(platform, service):
    settings, _ = platform
    client = triton.InferenceServerClient(url=f"{settings.serve_host}:{settings.serve_port}")
    client.register_plugin(Key(service.headers))
    return client


@pytest.fixture(scope="module")
def fleet():
    rows = telemetry(64, seed=11)
    return rows, rows[list(kinds.get("anomaly").input_names)].to_numpy(np.float32)


def test_health_and_metadata(client, service):
    assert client.is_server_live() and client.is_server_ready()
    served = service.health()["versions"]
    for name, width in (("anomaly", 8), ("cost", len(kinds.get("cost").input_names))):
        assert client.is_model_ready(name)
        assert client.is_model_ready(name, model_version=served[name])
        meta = client.get_model_metadata(name)
        assert meta["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, width]}]
        assert meta["versions"] == [served[name]] and meta["platform"] == "onnxruntime"
    assert not client.is_model_ready("anomaly", model_version="999")


@pytest.mark.parametrize("binary", [True, False])
def test_triton_infer_matches_v1_scores(client, service, fleet, binary):
    rows, X = fleet
    features = triton.InferInput("features", list(X.shape), "FP32")
    features.set_data_from_numpy(X, binary_data=binary)
    outputs = [
        triton.InferRequestedOutput("score", binary_data=binary),
        triton.InferRequestedOutput("is_anomaly", binary_data=binary),
    ]
    result = client.infer("anomaly", [features], outputs=outputs, request_id="fleet-1")
    assert result.get_response()["id"] == "fleet-1"
    scores, flags = result.as_numpy("score"), result.as_numpy("is_anomaly")
    # V2 rows name no entity: compare with /v1 rows that name none either
    v1 = next(service.predict("anomaly", rows.drop(columns="entity_id").to_dict("records")))
    np.testing.assert_allclose(scores, [r["score"] for r in v1["results"]], rtol=1e-6)
    assert flags.dtype == np.bool_ and flags.tolist() == [r["is_anomaly"] for r in v1["results"]]


def test_triton_errors_carry_the_protocol_message(client, fleet):
    _, X = fleet
    features = triton.InferInput("features", list(X.shape), "FP32")
    features.set_data_from_numpy(X)
    with pytest.raises(InferenceServerException, match="unknown model 'nope'"):
        client.infer("nope", [features])
    bad = X.copy()
    bad[3, 0] = np.nan
    features.set_data_from_numpy(bad)
    with pytest.raises(InferenceServerException, match="row 3, feature cpu_util"):
        client.infer("anomaly", [features])
