"""The Serve application: a FastAPI gateway in front of one deployment per model kind.

Deployments stay thin: validation lives in :mod:`aetheredge.api` (FastAPI does it from
the typed request models) and inference in :mod:`aetheredge.runtime` (one runtime class
per model kind).
Each model deployment's ``user_config`` says which registry version to serve
(``{"version": null}`` means the champion); a new ``user_config`` reloads in place.

No ``from __future__ import annotations`` here: FastAPI must see the request models as
real classes on the wrapped ingress methods, or it would read them as query parameters.
"""

import asyncio
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from ray import serve
from ray.serve.handle import DeploymentHandle

from aetheredge.api import (
    ANOMALY_COLUMNS,
    COST_COLUMNS,
    AnomalyRequest,
    AnomalyResponse,
    CostRequest,
    CostResponse,
    Health,
    ModelCard,
    ModelsResponse,
    columns,
    validation_errors,
)
from aetheredge.config import ModelKind
from aetheredge.runtime import Prediction, runtime_for

api = FastAPI(
    title="AetherEdge",
    summary="Anomaly scores and cost predictions for infrastructure operations.",
    version="0.1.0",
)


@api.exception_handler(RequestValidationError)
async def refuse(_: Request, exc: RequestValidationError) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": validation_errors(exc.errors())})


@serve.deployment(
    user_config={"version": None},
    autoscaling_config={"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 8},
)
class ModelDeployment:
    """Hosts one model kind's runtime."""

    def __init__(self, kind: ModelKind) -> None:
        self.runtime = runtime_for(kind)

    def reconfigure(self, config: dict[str, Any]) -> None:
        self.runtime.load(config.get("version"))

    def predict(self, cols: dict[str, list[Any]]) -> Prediction:
        return self.runtime.predict(cols)

    def card(self) -> ModelCard:
        return self.runtime.card()


@serve.deployment(
    autoscaling_config={"min_replicas": 1, "max_replicas": 2, "target_ongoing_requests": 32},
)
@serve.ingress(api)
class Gateway:
    """HTTP routes; forwards validated columns to the model deployments."""

    def __init__(self, anomaly: DeploymentHandle, cost: DeploymentHandle) -> None:
        self.models = {"anomaly": anomaly, "cost": cost}

    @api.post("/v1/anomaly/score", response_model=AnomalyResponse)
    async def score(self, body: AnomalyRequest) -> AnomalyResponse:
        cols = columns(body.rows, ANOMALY_COLUMNS)
        out: Prediction = await self.models["anomaly"].predict.remote(cols)
        return AnomalyResponse(version=out.version, threshold=out.threshold, results=out.results)

    @api.post("/v1/cost/predict", response_model=CostResponse)
    async def predict(self, body: CostRequest) -> CostResponse:
        cols = columns(body.rows, COST_COLUMNS)
        out: Prediction = await self.models["cost"].predict.remote(cols)
        return CostResponse(version=out.version, results=out.results)

    @api.get("/v1/models", response_model=ModelsResponse)
    async def models(self) -> ModelsResponse:
        cards = await asyncio.gather(*(h.card.remote() for h in self.models.values()))
        return ModelsResponse(models=list(cards))

    @api.get("/healthz", response_model=Health)
    async def healthz(self) -> Health:
        cards = await asyncio.gather(*(h.card.remote() for h in self.models.values()))
        return Health(versions={c.kind: c.version for c in cards})


app = Gateway.bind(
    ModelDeployment.options(name="anomaly").bind("anomaly"),
    ModelDeployment.options(name="cost").bind("cost"),
)
