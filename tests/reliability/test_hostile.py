"""Malformed and hostile requests at the live service: each gets a clean 4xx (or, for a
body that never finishes, a 408 once its deadline passes), and the service stays
healthy for everyone else meanwhile."""

import socket
import time
from pathlib import Path

import orjson
import pytest
import ray

from tests.support.rows import GOOD_METRICS, GOOD_USAGE
from tests.support.steady import SteadyLoad, anomaly_body

pytestmark = pytest.mark.integration
DEEP = 100_000  # nesting levels: far past any parser's recursion limit


def _rows(row: dict, **changes: object) -> bytes:
    return orjson.dumps({"rows": [row | changes]})


def _raw(row: dict, field: str, literal: str) -> bytes:
    """A body with ``field`` set to a JSON ``literal`` orjson would never write."""
    return _rows(row, **{field: 0.125}).replace(b"0.125", literal.encode())


INFER = "/v2/models/anomaly/infer"
HOSTILE = {
    "deep arrays": ("/v1/anomaly/score", b'{"rows": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
    "deep objects": (
        "/v1/cost/predict",
        b'{"rows": [' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"]}",
    ),
    "deep infer": (INFER, b'{"inputs": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
    "deep ingest": ("/v1/telemetry", b'{"rows": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
    "huge float": ("/v1/anomaly/score", _raw(GOOD_METRICS, "disk_io_mbps", "1e400")),
    "huge int": ("/v1/cost/predict", _raw(GOOD_USAGE, "vcpu_hours", "9" * 5000)),
    "NaN": ("/v1/anomaly/score", _raw(GOOD_METRICS, "cpu_util", "NaN")),
    "Infinity": ("/v1/cost/predict", _raw(GOOD_USAGE, "vcpu_hours", "-Infinity")),
    "huge shape": (
        INFER,
        orjson.dumps(
            {
                "inputs": [
                    {
                        "name": "features",
                        "datatype": "FP32",
                        "shape": [10**12, 8],
                        "data": [0.5] * 8,
                    }
                ]
            }
        ),
    ),
    "huge string": ("/v1/anomaly/score", _rows(GOOD_METRICS, entity_id="x" * 2_000_000)),
    "not utf-8": ("/v1/anomaly/score", b'{"rows": [{"cpu_util": "\xff\xfe"}]}'),
    "utf-16": ("/v1/anomaly/score", _rows(GOOD_METRICS).decode().encode("utf-16")),
    "xml": ("/v1/anomaly/score", b"<rows><row cpu_util='0.5'/></rows>"),
    "form to ingest": ("/v1/telemetry", b"cpu_util=0.5&mem_util=0.5"),
    "binary to ingest": ("/v1/telemetry", bytes(range(256)) * 64),
}
CONTENT_TYPES = {
    "xml": "application/xml",
    "form to ingest": "application/x-www-form-urlencoded",
    "binary to ingest": "application/vnd.apache.parquet",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_bodies_get_a_clean_4xx(stack, name):
    path, body = HOSTILE[name]
    headers = {"content-type": CONTENT_TYPES.get(name, "application/json")}
    response = stack.client.http.post(path, content=body, headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) & {"detail", "error", "errors"}
    assert stack.client.health()["versions"]  # and the service is still there


def _slow_client(port: int, path: str, key: str) -> socket.socket:
    """A connection that promises a 4 KiB body and sends its first bytes only."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
    )
    conn.sendall(head.encode() + b'{"rows": [')
    return conn


def _answer(conn: socket.socket) -> bytes:
    """The head of the server's answer, trickling a byte a second until it comes."""
    conn.setblocking(False)
    received = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
            if b"\r\n\r\n" in received:
                break
        except BlockingIOError:
            try:
                conn.send(b" ")
            except OSError:
                break
            time.sleep(1)
        except OSError:
            break
    conn.close()
    return received


def test_slow_bodies_time_out_while_everyone_else_is_served(stack):
    key = stack.client.headers["Authorization"]
    port = stack.settings.serve_port
    paths = ["/v1/anomaly/score", "/v2/models/cost/infer", "/v1/telemetry"]
    started = time.monotonic()
    with SteadyLoad(stack.client, "/v1/anomaly/score", anomaly_body(8, seed=51)) as load:
        slow = [_slow_client(port, paths[i % 3], key) for i in range(24)]
        answers = [_answer(conn) for conn in slow]
    took = time.monotonic() - started
    statuses = [a.split(b" ", 2)[1] if a.startswith(b"HTTP/1.1 ") else a[:40] for a in answers]
    print(f"slow clients: {statuses.count(b'408')}/24 got 408 in {took:.1f}s")
    assert statuses == [b"408"] * len(slow)
    assert took < stack.settings.body_timeout_s + 10
    assert load.failures() == [] and len(load.answers) > 100


def test_no_answer_or_log_line_carries_a_key(stack):
    """Keys presented (a good one all session, a wrong one now) never reach a log file
    of the cluster (Ray, Serve, HAProxy, jobs) nor an answer."""
    wrong = "ae_" + "W" * 43
    refused = stack.client.http.post(
        "/v1/anomaly/score",
        json=anomaly_body(1, seed=52),
        headers={"Authorization": f"Bearer {wrong}"},
    )
    assert refused.status_code == 401 and wrong not in refused.text
    time.sleep(2)  # log lines reach their files
    key = stack.client.headers["Authorization"].removeprefix("Bearer ")
    logs = Path(ray._private.worker.global_worker.node.get_logs_dir_path())
    files = [p for p in logs.rglob("*") if p.is_file()]
    leaked = [p.name for p in files if any(k.encode() in p.read_bytes() for k in (key, wrong))]
    assert len(files) > 10 and leaked == []
