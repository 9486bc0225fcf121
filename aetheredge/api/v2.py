"""The Open Inference Protocol (KServe V2) over REST: typed messages and tensor codec.

Each model takes one input, ``features``: a ``[-1, F]`` FP32 or FP64 tensor whose
columns are ``FEATURE_NAMES[kind]`` in raw units. Data arrive row-major as JSON (flat
or nested) or, with the binary tensor extension, as raw little-endian bytes after the
JSON header (``Inference-Header-Content-Length``), which decode straight into NumPy.
Outputs are ``score`` (FP64) and ``is_anomaly`` (BOOL) for ``anomaly``, ``cost``
(FP64) for ``cost``, as JSON or, per output on request, binary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aetheredge.api.errors import ProtocolError

INPUT = "features"
HEADER_LENGTH = "inference-header-content-length"
DTYPES: dict[str, np.dtype] = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}
BINARY_OUT: dict[str, np.dtype] = {"FP64": np.dtype("<f8"), "BOOL": np.dtype("?")}


@dataclass(frozen=True)
class OutputTensor:
    """One output of an inference: name, datatype and values (one per row)."""

    name: str
    datatype: str
    values: np.ndarray


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class Live(BaseModel):
    live: bool


class Ready(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class RequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    shape: list[int] = Field(min_length=1, max_length=2)
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class RequestOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    """``POST /v2/models/{name}/infer``."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = None


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: Literal["FP64", "BOOL"]
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class InferResponse(BaseModel):
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[ResponseOutput]


class ErrorBody(BaseModel):
    error: str


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """The JSON header and the binary tail of a request (tail empty when all JSON)."""
    if header_length is None:
        return body, b""
    try:
        n = int(header_length)
    except ValueError:
        raise ProtocolError(f"{HEADER_LENGTH} must be an integer") from None
    if not 0 < n <= len(body):
        raise ProtocolError(f"{HEADER_LENGTH} {n} is outside the {len(body)}-byte body")
    return body[:n], body[n:]


def parse_request(body: bytes, header_length: str | None = None) -> tuple[InferRequest, bytes]:
    """The request's JSON part, validated, and its binary tail (empty when all JSON)."""
    header, tail = split_body(body, header_length)
    try:
        return InferRequest.model_validate_json(header), tail
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ProtocolError(f"invalid inference request at {where}: {first['msg']}") from None


def input_matrix(request: InferRequest, n_features: int, tail: bytes = b"") -> np.ndarray:
    """The ``features`` input as a float64 ``(n, n_features)`` array."""
    if len(request.inputs) != 1 or request.inputs[0].name != INPUT:
        names = [i.name for i in request.inputs]
        raise ProtocolError(f"expected exactly one input named {INPUT!r}, got {names}")
    tensor = request.inputs[0]
    if tensor.datatype not in DTYPES:
        raise ProtocolError(f"datatype {tensor.datatype} not supported; use FP32 or FP64")
    shape = tensor.shape if len(tensor.shape) == 2 else [-1, *tensor.shape]
    if shape[1] != n_features or shape[0] < -1 or shape[0] == 0:
        raise ProtocolError(f"shape {tensor.shape} does not match [-1, {n_features}]")
    binary_size = (tensor.parameters or {}).get("binary_data_size")
    if binary_size is not None:
        if binary_size != len(tail) or len(tail) % DTYPES[tensor.datatype].itemsize:
            raise ProtocolError(f"binary_data_size {binary_size} != {len(tail)} bytes sent")
        values = np.frombuffer(tail, dtype=DTYPES[tensor.datatype]).astype(np.float64)
    elif tensor.data is not None:
        values = np.array(tensor.data)
        if values.dtype.kind not in "fiu" or values.dtype == np.bool_:
            raise ProtocolError(f"{INPUT} data must be numbers, as {tensor.datatype}")
        values = values.astype(np.float64).ravel()
    else:
        raise ProtocolError(f"input {INPUT!r} carries no data")
    rows = len(values) // n_features
    if len(values) != rows * n_features or (shape[0] != -1 and shape[0] != rows) or rows == 0:
        raise ProtocolError(f"{len(values)} values do not fill shape {tensor.shape}")
    return values.reshape(rows, n_features)


def encode_response(
    request: InferRequest,
    model_name: str,
    model_version: str,
    outputs: list[OutputTensor],
) -> tuple[bytes, int | None]:
    """The response body and, when any output is binary, the JSON header's length."""
    wanted = {o.name: o for o in request.outputs} if request.outputs else None
    if wanted is not None and (unknown := set(wanted) - {t.name for t in outputs}):
        raise ProtocolError(f"unknown output(s) {sorted(unknown)}")
    body: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request.id is not None:
        body["id"] = request.id
    tensors, tail = [], []
    for out in outputs:
        if wanted is not None and out.name not in wanted:
            continue
        tensor: dict[str, Any] = {
            "name": out.name,
            "datatype": out.datatype,
            "shape": [len(out.values)],
        }
        if wanted is not None and (wanted[out.name].parameters or {}).get("binary_data"):
            raw = np.ascontiguousarray(out.values, dtype=BINARY_OUT[out.datatype]).tobytes()
            tensor["parameters"] = {"binary_data_size": len(raw)}
            tail.append(raw)
        else:
            tensor["data"] = out.values.tolist()
        tensors.append(tensor)
    body["outputs"] = tensors
    header = orjson.dumps(body)
    return (header + b"".join(tail), len(header)) if tail else (header, None)
