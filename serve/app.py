"""The Serve application: one ingress deployment scoring both models over HTTP.

One hop: each replica parses, validates, batches and scores in its own process, and
with the HAProxy ingress the request reaches it straight from HAProxy. The logic lives
in :mod:`aetheredge.serving.scoring` (plain Python); this module maps routes to it.

``user_config`` pins the versions (``{"versions": {"anomaly": "3", ...}}``; a kind left
out or null follows the champion alias, swapping in place when it moves) and the
batching knobs; a new ``user_config`` reloads in place.

No ``from __future__ import annotations`` here: FastAPI must see real classes in the
route signatures.
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import ORJSONResponse, Response
from pydantic import BaseModel
from ray import serve
from ray.serve import metrics

from aetheredge import kinds
from aetheredge.api import routes
from aetheredge.api.errors import RequestError, refusal
from aetheredge.api.limits import BodyLimit
from aetheredge.api.v1 import (
    Health,
    IngestResponse,
    ModelsResponse,
    Refusal,
    TelemetryBatch,
    response_model,
    scoring_request,
)
from aetheredge.api.v2 import (
    ErrorBody,
    InferRequest,
    InferResponse,
    Live,
    ModelMetadata,
    ModelReady,
    Ready,
    ServerMetadata,
)
from aetheredge.artifacts.registry import serving_requests
from aetheredge.ingest.service import IngestService
from aetheredge.kinds import ModelKind
from aetheredge.security.gate import Gate
from aetheredge.serving.metrics import Meter
from aetheredge.serving.predlog import PredictionLog
from aetheredge.serving.runtime import ModelRuntime, Scores, runtime_for
from aetheredge.serving.scoring import ScoringService
from aetheredge.serving.swap import ModelSwapper
from aetheredge.settings import Settings
from aetheredge.stores.online import OnlineFeatures
from aetheredge.stores.postgres.writer import Database
from serve.batching import BatchedScorer
from serve.fastpath import ROUTES, Handler, ScoringAPI, reply, v2_route

log = logging.getLogger("ray.serve")
VERSION = "0.1.0"


api = ScoringAPI(
    title="AetherEdge",
    summary="Anomaly scores and cost predictions for infrastructure operations.",
    version=VERSION,
    default_response_class=ORJSONResponse,
)
REASONS: dict[int, str] = {
    400: "a Content-Length that is not a number; on V2, a request the protocol refuses",
    401: "no valid API key",
    403: "the key lacks the route's scope",
    404: "no such model or version",
    408: "the body did not arrive within AETHER_BODY_TIMEOUT_S",
    413: "the body is larger than the limit",
    415: "a content type ingest does not read",
    422: "a field is missing, of the wrong type or out of range",
    429: "the key's rate limit is spent (see Retry-After)",
    503: "no model is loaded yet, or the store is busy (see Retry-After)",
}


def refused(
    *codes: int, shapes: Sequence[type[BaseModel]] = (Refusal,)
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for the refusals ``codes``, each body one of ``shapes``."""
    refs = [{"$ref": f"#/components/schemas/{shape.__name__}"} for shape in shapes]
    schema = refs[0] if len(refs) == 1 else {"anyOf": refs}
    content = {"application/json": {"schema": schema}}
    return {code: {"description": REASONS[code], "content": content} for code in codes}


BODY_REFUSALS = refused(400, 408, 413, 422, 503)  # whatever reads a body
V2_REFUSALS = refused(404, shapes=(ErrorBody,))
INFER_REFUSALS = refused(400, 404, 408, 413, shapes=(ErrorBody,))


@api.exception_handler(RequestError)
async def refuse(request: Request, exc: RequestError) -> Response:
    status, body, headers = refusal(exc, request.url.path)
    return Response(body, status, headers, media_type="application/json")


def _body(model: type[BaseModel], *files: str) -> dict[str, Any]:
    """OpenAPI for a route that parses its own JSON body as ``model`` (or ``files``)."""
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    }
    content.update({kind: {"schema": {"type": "string", "format": "binary"}} for kind in files})
    return {"requestBody": {"required": True, "content": content}}


def _openapi() -> dict[str, Any]:
    if api.openapi_schema is None:
        schema = get_openapi(
            title=api.title, version=api.version, summary=api.summary, routes=api.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        max_rows = Settings().max_rows_per_request  # the limit this service enforces
        for model in (
            *(scoring_request(kind, max_rows) for kind in kinds.names()),
            InferRequest,
            TelemetryBatch,
            Refusal,
            ErrorBody,
        ):
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(body.pop("$defs", {}))
            components[model.__name__] = body
        _secure(schema)
        api.openapi_schema = schema
    return api.openapi_schema


def _secure(schema: dict[str, Any]) -> None:
    """Declare the bearer API key, and its refusals, on every route the gate guards."""
    schema["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "AETHER_API_KEYS"}
    }
    for path, operations in schema["paths"].items():
        if path in routes.OPEN:
            continue
        shape = {"v1": Refusal, "v2": ErrorBody}[routes.protocol(path)]  # as RequestError.content
        gate = refused(401, 403, 429, shapes=(shape,))
        for operation in operations.values():
            operation["security"] = [{"apiKey": []}]
            operation["responses"].update({str(code): answer for code, answer in gate.items()})


api.openapi = _openapi  # type: ignore[method-assign]


# Replicas, autoscaling and limits come from the Serve config, built in one place
# (aetheredge/ops/deployment.py) for `aetheredge up` and the manifests alike. The
# default user_config makes Serve call reconfigure(), which loads the models, even
# when the app is run without a config.
@serve.deployment(user_config={"versions": {}})
@serve.ingress(api)
class Scorer:
    """Scores anomaly and cost requests (``/v1`` and the Open Inference Protocol)."""

    def __init__(self) -> None:
        self.settings = settings = Settings()
        serving_requests(settings)
        self.meter = Meter(metrics)
        runtimes = {kind: runtime_for(kind) for kind in kinds.names()}
        self.batchers = {
            kind: BatchedScorer(
                runtime,
                settings.batch_max_size,
                settings.batch_wait_s,
                settings.batch_bypass_rows,
                self.meter,
            )
            for kind, runtime in runtimes.items()
        }
        online = OnlineFeatures(settings, on_degraded=self.meter.degraded)
        database = Database(settings)
        self.log = PredictionLog(settings, database, online, on_state=self.meter.log_state)
        self.service = ScoringService(
            runtimes,
            self._score,
            BodyLimit(settings.max_body_bytes, settings.body_timeout_s),
            online,
            self.log,
            self.meter,
            settings.max_rows_per_request,
        )
        self.ingestion = IngestService(settings, online, database)
        self.swapper = ModelSwapper(runtimes, settings.model_poll_s, self._loaded)
        self.gate = Gate.from_settings(settings)

    async def __del__(self) -> None:
        """On a graceful stop, write (or spill) the prediction log's buffer first."""
        await self.swapper.stop()
        await self.log.close()

    async def _score(self, kind: ModelKind, X: Any) -> Scores:
        return await self.batchers[kind](X)

    def _loaded(self, kind: ModelKind, runtime: ModelRuntime, fallbacks: int, _: float) -> None:
        self.meter.loaded(kind, runtime.version, runtime.engine, fallbacks)

    async def reconfigure(self, config: dict[str, Any]) -> None:
        """Apply ``user_config``: tuning knobs (Settings names) first, then versions.

        A kind pinned to a version serves it; an unpinned kind follows the champion
        alias (the swapper polls it), swapping in place. Serve calls this once the
        replica and the app it serves (``self.app``) are built; the app (a
        :class:`ScoringAPI`) finds the service in ``app.state``.
        """
        self.app.state.gate = self.gate
        self.app.state.service = self.service
        settings = self.settings.model_copy(update=config.get("tuning", {}))
        self.service.log = self.log if settings.prediction_log else None
        threads = {r.threads for r in self.service.runtimes.values()}
        for kind, runtime in self.service.runtimes.items():
            self.batchers[kind].configure(
                settings.batch_max_size, settings.batch_wait_s, settings.batch_bypass_rows
            )
            runtime.threads = settings.inference_threads
        await self.swapper.pin(
            config.get("versions", {}), again=threads != {settings.inference_threads}
        )
        self.swapper.start()
        self.meter.start()

    async def _answer(self, request: Request, handler: Handler) -> Response:
        """``handler``'s answer through FastAPI (the same one :class:`ScoringAPI` gives)."""
        body = await self.service.body.read(request.headers.get("content-length"), request.stream())
        headers, path = dict(request.headers), request.url.path
        status, out, extra = await reply(handler, self.service, body, headers, path)
        return Response(out, status, {k.decode(): v.decode() for k, v in extra})

    async def score(self, request: Request) -> Response:
        # Scores a /v1 body of rows with the model the route belongs to (no docstring:
        # FastAPI would publish it as every scoring route's description).
        return await self._answer(request, ROUTES[request.scope["route"].path])

    for kind in kinds.names():  # one route per kind, named by its path's last segment
        api.post(
            routes.score_path(kind),
            response_model=response_model(kind),
            openapi_extra=_body(scoring_request(kind)),
            responses=BODY_REFUSALS,
            summary=kinds.get(kind).summary,
            name=routes.score_path(kind).rsplit("/", 1)[-1],
        )(score)
    del kind

    @api.post(
        routes.V1_TELEMETRY,
        response_model=IngestResponse,
        openapi_extra=_body(TelemetryBatch, "text/csv", "application/vnd.apache.parquet"),
        summary="Store telemetry rows (JSON, CSV or Parquet); idempotent per (entity_id, ts)",
        responses=BODY_REFUSALS | refused(415) | refused(422, shapes=(IngestResponse, Refusal)),
    )
    async def telemetry(self, request: Request) -> Response:
        length = request.headers.get("content-length")
        body = await self.ingestion.body.read(length, request.stream())
        result = await self.ingestion.telemetry(body, request.headers.get("content-type"))
        outcomes = {"accepted": result.accepted, "duplicate": result.duplicates}
        self.meter.ingest(outcomes | {"rejected": result.rejected})
        return Response(result.model_dump_json(), 200, media_type="application/json")

    @api.get(routes.V1_MODELS, response_model=ModelsResponse)
    async def models(self) -> ModelsResponse:
        runtimes = self.service.runtimes.values()
        return ModelsResponse(models=[r.card() for r in runtimes if r.ready])

    @api.get(routes.HEALTHZ, response_model=Health)
    async def healthz(self) -> Health:
        runtimes = self.service.runtimes.items()
        return Health(versions={k: r.version for k, r in runtimes if r.ready})

    @api.get(routes.V2, response_model=ServerMetadata)
    async def server_metadata(self) -> ServerMetadata:
        return ServerMetadata(name="aetheredge", version=VERSION, extensions=["binary_tensor_data"])

    @api.get(routes.V2_LIVE, response_model=Live)
    async def live(self) -> Live:
        return Live(live=True)

    @api.get(routes.V2_READY, response_model=Ready)
    async def ready(self) -> Ready:
        return Ready(ready=all(r.ready for r in self.service.runtimes.values()))

    @api.get(routes.V2_MODEL, response_model=ModelMetadata, responses=V2_REFUSALS)
    @api.get(routes.V2_MODEL_VERSION, response_model=ModelMetadata, responses=V2_REFUSALS)
    async def model_metadata(self, name: str, version: str | None = None) -> ModelMetadata:
        return self.service.metadata(name, version)

    @api.get(routes.V2_MODEL_READY, response_model=ModelReady, responses=V2_REFUSALS)
    @api.get(routes.V2_MODEL_VERSION_READY, response_model=ModelReady, responses=V2_REFUSALS)
    async def model_ready(self, name: str, version: str | None = None) -> ModelReady:
        return self.service.model_ready(name, version)

    @api.post(
        routes.V2_INFER,
        response_model=InferResponse,
        responses=INFER_REFUSALS,
        openapi_extra=_body(InferRequest),
    )
    @api.post(
        routes.V2_VERSION_INFER,
        response_model=InferResponse,
        responses=INFER_REFUSALS,
        openapi_extra=_body(InferRequest),
    )
    async def infer(self, request: Request, name: str, version: str | None = None) -> Response:
        return await self._answer(request, v2_route(name, version))


app = Scorer.bind()
