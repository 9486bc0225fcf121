"""What the scoring routes do, as plain Python: bytes in, validated arrays, bytes out.

The Serve deployment (``serve/app.py``) is a thin shell around :class:`ScoringService`:
it supplies the runtimes and the (dynamically batched) scoring coroutine, and maps
:class:`RequestError` to an HTTP response. Bodies are parsed once, in Rust
(pydantic-core) or NumPy, and responses are encoded with orjson.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence

import numpy as np
import orjson
from pydantic import ValidationError

from aetheredge.api.errors import ProtocolError, RequestError
from aetheredge.api.limits import BodyLimit
from aetheredge.api.v1 import MAX_ROWS, columns, row_columns, scoring_request, validation_errors
from aetheredge.api.v2 import (
    INPUT,
    ModelMetadata,
    ModelReady,
    TensorMetadata,
    encode_response,
    input_matrix,
    parse_request,
)
from aetheredge.kinds import ModelKind
from aetheredge.serving.metrics import Meter
from aetheredge.serving.predlog import Entry, PredictionLog
from aetheredge.serving.runtime import ModelRuntime, Scores
from aetheredge.stores.online import OnlineFeatures

Scorer = Callable[[ModelKind, np.ndarray], Awaitable[Scores]]


class ScoringService:
    """The ``/v1`` and Open Inference Protocol logic over one runtime per model kind."""

    def __init__(
        self,
        runtimes: Mapping[ModelKind, ModelRuntime],
        score: Scorer,
        body: BodyLimit,
        online: OnlineFeatures | None = None,
        log: PredictionLog | None = None,
        meter: Meter | None = None,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.requests = {kind: scoring_request(kind, max_rows) for kind in runtimes}
        self.columns = {kind: row_columns(kind) for kind in runtimes}
        self.runtimes = runtimes
        self.score = score
        self.body = body
        self.online = online
        self.log = log
        self.meter = meter or Meter()

    async def v1(self, kind: ModelKind, body: bytes) -> bytes:
        """Score a ``/v1`` request body of rows; 422 names every invalid field."""
        with self.meter.request(kind, "v1") as measured:
            self.body.check(len(body))
            runtime = self.runtimes[kind]
            if not runtime.ready:
                raise RequestError(503, {"detail": f"no {kind} model is loaded yet"})
            spec = runtime.spec
            try:
                rows = self.requests[kind].model_validate_json(body).rows  # type: ignore[attr-defined]
                cols = columns(rows, self.columns[kind])
                X = spec.encode(cols)
            except ValidationError as exc:
                raise RequestError(
                    422, {"detail": validation_errors(exc.errors(), ("body",))}
                ) from None
            except ValueError as exc:
                raise RequestError(422, {"detail": [{"loc": ["body"], "msg": str(exc)}]}) from None
            entity_ids = cols.get(spec.entity) if spec.entity is not None else None
            Z, degraded = None, False
            if spec.derived and self.online is not None and entity_ids is not None:
                Z, degraded = await self.online.zscores(entity_ids, X)
            scores = await self.score(kind, spec.model_input(X, Z))
            measured.scored(scores)
            body = runtime.body(scores, entity_ids)
            body["request_id"] = await self._log(kind, scores, entity_ids, degraded)
            if spec.derived:
                body["degraded"] = degraded
            return orjson.dumps(body)

    async def _log(
        self,
        kind: ModelKind,
        scores: Scores,
        entity_ids: Sequence[str | None] | None = None,
        degraded: bool = False,
    ) -> str:
        """Hand the scored rows to the prediction log; returns the request's id."""
        request_id = uuid.uuid4().hex
        if self.log is not None:
            flags = scores.flags if scores.threshold is not None else None
            entry = Entry(
                np.datetime64(time.time_ns(), "ns"),
                request_id,
                kind,
                scores.version,
                entity_ids,
                scores.values,
                flags,
                degraded,
            )
            self.log.record(entry)
        return request_id

    def runtime(self, name: str, version: str | None = None) -> ModelRuntime:
        """The runtime serving model ``name`` (at ``version``, when given), else 404."""
        if name not in self.runtimes:
            raise ProtocolError(f"unknown model {name!r}; models are {list(self.runtimes)}", 404)
        runtime = self.runtimes[name]
        if not runtime.ready:
            raise ProtocolError(f"model {name!r} is not loaded", 404)
        if version is not None and version != runtime.version:
            raise ProtocolError(
                f"model {name!r} version {version!r} is not served (serving {runtime.version})",
                404,
            )
        return runtime

    def metadata(self, name: str, version: str | None = None) -> ModelMetadata:
        runtime = self.runtime(name, version)
        return ModelMetadata(
            name=name,
            versions=[runtime.version],
            platform=runtime.engine,
            inputs=[TensorMetadata(name=INPUT, datatype="FP32", shape=[-1, runtime.n_inputs])],
            outputs=[
                TensorMetadata(name=out.name, datatype=out.datatype, shape=[-1])
                for out in runtime.spec.outputs
            ],
        )

    def model_ready(self, name: str, version: str | None = None) -> ModelReady:
        return ModelReady(name=name, ready=self.runtime(name, version).ready)

    async def infer(
        self, name: str, version: str | None, body: bytes, header_length: str | None
    ) -> tuple[bytes, int | None]:
        """An inference response body and, for binary outputs, its JSON header length."""
        model = name if name in self.runtimes else "unknown"  # tags never take user input
        with self.meter.request(model, "v2") as measured:
            self.body.check(len(body))
            runtime = self.runtime(name, version)
            request, tail = parse_request(body, header_length)
            M = input_matrix(request, runtime.n_inputs, tail)
            try:
                X = runtime.spec.from_tensor(M)
            except ValueError as exc:
                raise ProtocolError(f"input {INPUT!r}: {exc}") from None
            scores = await self.score(runtime.kind, runtime.spec.model_input(X))
            measured.scored(scores)
            await self._log(runtime.kind, scores)
            return encode_response(request, name, scores.version, runtime.tensors(scores))
