"""A serving replica's calls to the tracking server give up fast: it polls again anyway."""

from mlflow.environment_variables import (
    MLFLOW_HTTP_REQUEST_MAX_RETRIES,
    MLFLOW_HTTP_REQUEST_TIMEOUT,
)

from aetheredge.artifacts.registry import serving_requests
from aetheredge.settings import Settings


def test_a_replica_takes_the_retries_and_timeout_its_settings_name(monkeypatch):
    for variable in (MLFLOW_HTTP_REQUEST_MAX_RETRIES, MLFLOW_HTTP_REQUEST_TIMEOUT):
        monkeypatch.setenv(variable.name, "1")  # so that the test's end restores it
        monkeypatch.delenv(variable.name)
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 7  # MLflow's own: minutes of backoff
    serving_requests(Settings(registry_retries=0, registry_timeout_s=3))
    assert (MLFLOW_HTTP_REQUEST_MAX_RETRIES.get(), MLFLOW_HTTP_REQUEST_TIMEOUT.get()) == (0, 3)
