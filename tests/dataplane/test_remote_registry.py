"""A model registered through a real MLflow server is served from another disk.

Two state directories stand for two pods: the trainer's and a replica's. The server
(PostgreSQL backend, ``--serve-artifacts``) keeps runs in its database and artifacts
on its own disk. The trainer writes nothing into its directory, so the replica can
read nothing back from there.
"""

from pathlib import Path

import pytest
from mlflow import MlflowClient

from aetheredge.artifacts.registry import Registry
from aetheredge.datasets.frames import load_frame, split
from aetheredge.models import build_model
from aetheredge.serving.runtime import runtime_for
from aetheredge.settings import Settings
from tests.support.mlflow_server import mlflow_server


@pytest.fixture(scope="module")
def tracking(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mlflow-server")
    with mlflow_server(database_url, root / "artifacts", root / "server.log") as url:
        yield url, root / "artifacts"


def _pod(tmp_path: Path, name: str, url: str) -> Settings:
    return Settings(home=tmp_path / name, mlflow_tracking_uri=url)


def test_a_version_registered_on_one_disk_is_served_from_another(tracking, tmp_path):
    url, artifacts = tracking
    trainer = Registry(_pod(tmp_path, "trainer", url))
    data = split("anomaly", load_frame("anomaly", rows=8_000, seed=3))
    model = build_model("anomaly", n_estimators=10, random_state=0)
    model.fit(data.X_train, data.y_train)
    info = trainer.register(model, params={}, metrics={}, sample=data.X_holdout[:200], tags={})
    trainer.promote("anomaly", info.version)
    location = MlflowClient(url).get_experiment_by_name(trainer.name("anomaly")).artifact_location
    assert location.startswith("mlflow-artifacts:")
    assert not (tmp_path / "trainer").exists()  # the trainer's pod disk holds nothing

    replica = runtime_for("anomaly", Registry(_pod(tmp_path, "replica", url)))
    assert replica.load() == info.version
    assert replica.engine == "onnxruntime"  # the compiled graph came through the server
    expected = model.output(data.X_holdout)
    assert replica.score(data.X_holdout).values == pytest.approx(expected, rel=1e-4)
    assert any(artifacts.rglob("model.onnx"))  # on the server's disk ...
    assert not (tmp_path / "replica" / "mlartifacts").exists()  # ... not on a pod's


def test_an_experiment_on_one_pods_disk_is_refused(tracking, tmp_path):
    url, _ = tracking
    settings = _pod(tmp_path, "old", url).model_copy(update={"model_prefix": "legacy"})
    MlflowClient(url).create_experiment(
        settings.model_name("cost"), artifact_location=(tmp_path / "pod-disk").as_uri()
    )
    data = split("cost", load_frame("cost", rows=3_000, seed=1))
    model = build_model("cost", n_estimators=3, random_state=0).fit(data.X_train, data.y_train)
    with pytest.raises(RuntimeError, match="one machine's disk"):
        Registry(settings).register(
            model, params={}, metrics={}, sample=data.X_holdout[:50], tags={}
        )


def test_an_object_store_location_is_used_as_given(tmp_path):
    settings = Settings(
        home=tmp_path,
        mlflow_tracking_uri="http://127.0.0.1:1",
        mlflow_artifact_location="s3://b/ae/",
    )
    assert settings.artifact_location("cost") == "s3://b/ae/cost"
    local = Settings(home=tmp_path)
    assert local.artifact_location("cost") == (tmp_path / "mlartifacts" / "cost").as_uri()
    assert (
        Settings(home=tmp_path, mlflow_tracking_uri="http://x:5000").artifact_location("cost")
        is None
    )
