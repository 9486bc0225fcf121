"""Typed settings, read from ``AETHER_*`` environment variables.

Every process of the platform (CLI, Ray job drivers, Train workers, Serve replicas)
builds its configuration from the same :class:`Settings`, so exporting one variable
changes the behaviour everywhere. Secrets may instead be files named like the variable
(``AETHER_DATABASE_URL``) in ``AETHER_SECRETS_DIR`` (default ``/var/run/secrets/aetheredge``,
where the Kubernetes manifests mount them), so they never sit in a pod's environment.
Paths are resolved to absolute paths at load time so that processes started by Ray in
other working directories see the same files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cached_property
from typing import Self

from pydantic import BaseModel
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from aetheredge.settings.groups import (
    IngestSettings,
    LifecycleSettings,
    RegistrySettings,
    SecuritySettings,
    ServingSettings,
    StoreSettings,
    TrainingSettings,
)
from aetheredge.settings.sources import EnvironSource, secrets_dir

# Tracking URIs of an MLflow server that several processes (and pods) share.
REMOTE_SCHEMES = frozenset({"http", "https", "databricks"})

# Set by Settings.from_environ while it builds settings from an environment of its own.
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("aetheredge_environ", default=None)

# The groups in the order the reference documents them.
GROUPS: tuple[type[BaseModel], ...] = (
    RegistrySettings,
    TrainingSettings,
    SecuritySettings,
    ServingSettings,
    StoreSettings,
    IngestSettings,
    LifecycleSettings,
)


class Settings(*GROUPS, BaseSettings):  # type: ignore[misc]
    """Platform configuration; each field is ``AETHER_<FIELD>`` in the environment.

    Its fields are grouped by the component that reads them
    (:mod:`aetheredge.settings.groups`, :data:`GROUPS`); every group is part of this
    one class, so one object configures a whole process.
    """

    model_config = SettingsConfigDict(env_prefix="AETHER_", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then secret files (only if the folder exists).

        Within :meth:`from_environ`: arguments, then that environment, nothing else.
        """
        if (environ := _ENVIRON.get()) is not None:
            return (init_settings, EnvironSource(settings_cls, environ))
        sources = (init_settings, env_settings, dotenv_settings)
        folder = secrets_dir()
        if folder.is_dir():
            sources += (SecretsSettingsSource(settings_cls, secrets_dir=folder),)
        return sources

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        """The settings of a process whose whole environment is ``environ`` (a pod's, a
        ConfigMap's): nothing from this process's environment, dotenv or secret files."""
        token = _ENVIRON.set(environ)
        try:
            return cls(_env_file=None)  # type: ignore[call-arg]
        finally:
            _ENVIRON.reset(token)

    @cached_property
    def tracking_uri(self) -> str:
        """The MLflow URI for both tracking and the model registry."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.home / 'mlflow.db'}"

    @property
    def remote_tracking(self) -> bool:
        """Whether MLflow is a tracking server that other processes and nodes share."""
        return self.tracking_uri.split(":", 1)[0] in REMOTE_SCHEMES

    def artifact_location(self, kind: str) -> str | None:
        """Where a new experiment of ``kind`` keeps its artifacts; None: the server's store.

        A remote tracking server gets no ``file://`` location: the path would be on
        the disk of whichever pod created the experiment, and every other pod would
        fail to download what it logged.
        """
        if self.mlflow_artifact_location is not None:
            return f"{self.mlflow_artifact_location.rstrip('/')}/{kind}"
        return None if self.remote_tracking else (self.home / "mlartifacts" / kind).as_uri()

    @property
    def train_storage_path(self) -> str:
        """Ray Train's ``storage_path``: ``AETHER_TRAIN_STORAGE``, else under home."""
        return self.train_storage or str(self.home / "ray_results")

    def model_name(self, kind: str) -> str:
        return f"{self.model_prefix}-{kind}"

    def child_env(self) -> dict[str, str]:
        """The ``AETHER_*`` variables that reproduce these settings in another process.

        A value that came from a secret file stays out: the other process reads the same
        file, and a job's environment is shown in the Ray dashboard.
        """
        env = {"AETHER_HOME": str(self.home), "AETHER_MLFLOW_TRACKING_URI": self.tracking_uri}
        folder = secrets_dir()
        for name in ("database_url", "database_schema", "redis_url"):
            variable = f"AETHER_{name.upper()}"
            if variable not in os.environ and (folder / variable).is_file():
                continue
            env[variable] = getattr(self, name)
        if self.model_prefix != "aetheredge":
            env["AETHER_MODEL_PREFIX"] = self.model_prefix
        for name in ("mlflow_artifact_location", "train_storage"):
            if (value := getattr(self, name)) is not None:
                env[f"AETHER_{name.upper()}"] = value
        env["AETHER_METRICS_LINGER_S"] = str(self.metrics_linger_s)
        return env
