"""The MLflow model registry as AetherEdge uses it.

One registered model per kind (``<prefix>-anomaly``, ``<prefix>-cost``), one MLflow
experiment of the same name holding the training runs. The version that serves is the
one the ``champion`` alias points at. Models are saved with the sklearn flavor in
cloudpickle format: MLflow 3 defaults to skops, which refuses our estimator classes
unless every type is listed as trusted, and these artifacts are produced and consumed
only by this platform.

Training-side dependencies (scikit-learn, the ONNX compiler, MLflow's model flavors,
synthetic rows) are imported inside the methods that need them: a serving replica only
resolves versions and reads compiled artifacts, and must fit in 400 MB.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from aetheredge import kinds
from aetheredge.artifacts.onnx import TOLERANCE
from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings

if TYPE_CHECKING:
    from aetheredge.artifacts.reference import Reference
    from aetheredge.models import ForestModel

log = logging.getLogger(__name__)
METRIC_PREFIX = "holdout_"
COMPILED_ARTIFACT = "compiled/model.onnx"
COMPILED_TAG = "aetheredge.compiled"  # "verified", or "disagrees" when over tolerance
DECISION_TAG = "aetheredge.decision"  # on the run: "promoted" or "rejected"
PREVIOUS_TAG = "aetheredge.previous_champion"  # on a version: the champion it replaced
DECISION_ARTIFACT = "promotion_decision.json"
REFERENCE_ARTIFACT = "drift_reference.json"


def serving_requests(settings: Settings) -> None:
    """Make this process's calls to the tracking server give up as a serving replica
    should: after ``registry_retries`` retries, each call waiting at most
    ``registry_timeout_s``. MLflow takes these from the environment alone, at each call.

    A replica that keeps MLflow's defaults (7 retries, exponential backoff, 120 s each)
    sits in one champion lookup for minutes while the server is away, and swaps only
    when that lookup's next retry comes round, long after the server is back.
    """
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(settings.registry_retries)
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(settings.registry_timeout_s)


class PromotionRefusedError(ValueError):
    """A version may not become champion (its compiled form disagrees with it)."""


@dataclass(frozen=True)
class VersionInfo:
    """A registered version, its hold-out metrics and whether it is the champion."""

    kind: ModelKind
    version: str
    run_id: str
    metrics: dict[str, float]
    aliases: list[str] = field(default_factory=list)
    compiled: bool = False  # a compiled artifact exists and agrees with the model
    created: float = 0.0  # registration time, seconds since the epoch
    decision: str = ""  # the promotion verdict at registration: "promoted", "rejected"
    previous_champion: str | None = None  # the champion it replaced, when it was promoted


@dataclass(frozen=True)
class LoadedModel:
    """A model loaded from the registry with the version it came from."""

    model: ForestModel
    info: VersionInfo


class Registry:
    """Logs, registers, loads and promotes model versions in MLflow."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        if not self.settings.remote_tracking:  # the SQLite store and artifacts under home
            self.settings.home.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.settings.tracking_uri)
        mlflow.set_registry_uri(self.settings.tracking_uri)
        self.client = MlflowClient(self.settings.tracking_uri, self.settings.tracking_uri)

    def name(self, kind: ModelKind) -> str:
        return self.settings.model_name(kind)

    def _experiment_id(self, kind: ModelKind) -> str:
        name = self.name(kind)
        experiment = self.client.get_experiment_by_name(name)
        if experiment is None:
            location = self.settings.artifact_location(kind)
            return self.client.create_experiment(name, artifact_location=location)
        if self.settings.remote_tracking and experiment.artifact_location.startswith("file:"):
            raise RuntimeError(
                f"experiment {name!r} on {self.settings.tracking_uri} keeps artifacts at "
                f"{experiment.artifact_location}, one machine's disk that other nodes cannot "
                "read; rename or delete it so that it is created again on the server's store"
            )
        return experiment.experiment_id

    def _info(self, kind: ModelKind, mv: ModelVersion) -> VersionInfo:
        run = self.client.get_run(mv.run_id).data
        metrics = run.metrics
        return VersionInfo(
            kind=kind,
            version=str(mv.version),
            run_id=mv.run_id,
            metrics={
                k.removeprefix(METRIC_PREFIX): v
                for k, v in metrics.items()
                if k.startswith(METRIC_PREFIX)
            },
            aliases=list(mv.aliases),
            compiled=run.tags.get(COMPILED_TAG) == "verified",
            created=mv.creation_timestamp / 1000,
            decision=run.tags.get(DECISION_TAG, ""),
            previous_champion=mv.tags.get(PREVIOUS_TAG) or None,
        )

    def champion(self, kind: ModelKind) -> VersionInfo | None:
        """The version the champion alias points at, if any."""
        try:
            mv = self.client.get_model_version_by_alias(
                self.name(kind), self.settings.champion_alias
            )
        except MlflowException:
            return None
        return self._info(kind, mv)

    def versions(self, kind: ModelKind) -> list[VersionInfo]:
        """Every registered version of ``kind``, newest first, with its aliases."""
        name = self.name(kind)
        found = self.client.search_model_versions(f"name='{name}'")
        if not found:
            return []
        # search results carry no aliases; the registered model maps them
        aliases = self.client.get_registered_model(name).aliases
        infos = (
            replace(
                self._info(kind, mv),
                aliases=[a for a, v in aliases.items() if str(v) == str(mv.version)],
            )
            for mv in found
        )
        return sorted(infos, key=lambda v: int(v.version), reverse=True)

    def resolve(self, kind: ModelKind, version: str | None = None) -> VersionInfo:
        """``version`` of ``kind``, or the champion when ``version`` is None."""
        name = self.name(kind)
        try:
            if version is None:
                mv = self.client.get_model_version_by_alias(name, self.settings.champion_alias)
            else:
                mv = self.client.get_model_version(name, version)
        except MlflowException as exc:
            wanted = version or f"@{self.settings.champion_alias}"
            raise LookupError(f"no model {name} version {wanted} in the registry") from exc
        return self._info(kind, mv)

    def load(self, kind: ModelKind, version: str | None = None) -> LoadedModel:
        """Load the scikit-learn model of ``version`` (default: the champion)."""
        import mlflow.sklearn

        info = self.resolve(kind, version)
        model = mlflow.sklearn.load_model(f"models:/{self.name(kind)}/{info.version}")
        return LoadedModel(model=model, info=info)

    def compiled_payload(self, info: VersionInfo) -> bytes:
        """The compiled (ONNX) artifact logged beside ``info``'s model."""
        path = mlflow.artifacts.download_artifacts(
            run_id=info.run_id,
            artifact_path=COMPILED_ARTIFACT,
            tracking_uri=self.settings.tracking_uri,
        )
        return Path(path).read_bytes()

    def reference(self, info: VersionInfo) -> Reference | None:
        """The training distribution stored with ``info``, if it has one."""
        from aetheredge.artifacts.reference import Reference

        try:
            data = mlflow.artifacts.load_dict(f"runs:/{info.run_id}/{REFERENCE_ARTIFACT}")
        except (MlflowException, OSError):
            return None
        return Reference.from_dict(data)

    def _compile(self, model: ForestModel, sample: np.ndarray, tolerance: float) -> None:
        """Compile ``model``, log the artifact and its largest relative difference.

        Agreement is measured on ``sample`` plus rows spread over the whole input space.
        """
        from aetheredge.artifacts.onnx import (
            ENGINE,
            CompiledModel,
            compile_model,
            max_relative_difference,
        )
        from aetheredge.datasets.synthetic import random_matrix

        payload = compile_model(model)
        spread = random_matrix(model.kind, 4096, seed=len(payload))
        rows = np.vstack([sample, *model.check_rows(sample), spread]).astype(np.float32)
        diff = max_relative_difference(model, CompiledModel(payload), rows)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(COMPILED_ARTIFACT).name
            path.write_bytes(payload)
            mlflow.log_artifact(str(path), str(Path(COMPILED_ARTIFACT).parent))
        mlflow.log_metric("compiled_max_rel_diff", diff)
        mlflow.set_tags(
            {
                COMPILED_TAG: "verified" if diff <= tolerance else "disagrees",
                "aetheredge.compiled_engine": ENGINE,
                "aetheredge.compiled_tolerance": str(tolerance),
            }
        )

    def register(
        self,
        model: ForestModel,
        *,
        params: dict[str, Any],
        metrics: dict[str, float],
        sample: np.ndarray,
        tags: dict[str, str],
        tolerance: float = TOLERANCE,
        reference: Reference | None = None,
    ) -> VersionInfo:
        """Log a training run for ``model`` and register it as a new version.

        The model is also compiled (:mod:`aetheredge.artifacts.onnx`) and checked against
        itself; a version whose compiled form differs by more than ``tolerance``
        (relative) is registered but can never be promoted. ``reference`` (the training
        distribution, :mod:`aetheredge.artifacts.reference`) is stored beside it for drift
        detection.
        """
        import mlflow.sklearn
        import pandas as pd
        import sklearn
        from mlflow.models import infer_signature

        kind: ModelKind = model.kind
        frame = pd.DataFrame(sample, columns=list(kinds.get(kind).feature_names))
        output = model.output(sample)
        with mlflow.start_run(experiment_id=self._experiment_id(kind), tags=tags) as run:
            mlflow.log_params(params | model.get_params())
            mlflow.log_metrics({f"{METRIC_PREFIX}{k}": v for k, v in metrics.items()})
            mlflow.log_dict(model.summary(), "model_summary.json")
            if reference is not None:
                mlflow.log_dict(reference.to_dict(), REFERENCE_ARTIFACT)
            self._compile(model, sample, tolerance)
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                signature=infer_signature(frame, output),
                registered_model_name=self.name(kind),
                pip_requirements=[
                    f"scikit-learn=={sklearn.__version__}",
                    f"numpy=={np.__version__}",
                    "aetheredge",
                ],
            )
        mv = self.client.get_model_version(self.name(kind), str(info.registered_model_version))
        log.info("registered %s version %s (run %s)", self.name(kind), mv.version, run.info.run_id)
        return self._info(kind, mv)

    def promote(self, kind: ModelKind, version: str) -> str | None:
        """Point the champion alias at ``version``; return the champion it replaced.

        Refused when ``version``'s compiled form was not verified. The version keeps the
        replaced champion in a tag, which is where :meth:`rollback` goes back to.
        """
        if not self.resolve(kind, version).compiled:
            raise PromotionRefusedError(
                f"{self.name(kind)} version {version}: compiled model was not verified to "
                "agree with the scikit-learn model; refusing to promote"
            )
        current = self.champion(kind)
        previous = current.version if current else None
        if previous != version:
            self.client.set_model_version_tag(
                self.name(kind), version, PREVIOUS_TAG, previous or ""
            )
        self._point(kind, version)
        return previous

    def rollback(self, kind: ModelKind) -> tuple[str, str]:
        """Point the champion alias back at the version the champion replaced.

        Returns ``(from, to)``. Rolling back again walks further back.
        """
        current = self.champion(kind)
        if current is None or current.previous_champion is None:
            raise LookupError(f"{self.name(kind)} has no earlier champion to roll back to")
        self._point(kind, current.previous_champion)
        return current.version, current.previous_champion

    def _point(self, kind: ModelKind, version: str) -> None:
        self.client.set_registered_model_alias(
            self.name(kind), self.settings.champion_alias, version
        )
        log.info("%s champion is now version %s", self.name(kind), version)
