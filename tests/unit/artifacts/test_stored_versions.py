"""Versions registered by an earlier release still load and serve.

MLflow keeps each version's model as a cloudpickle, which names classes by module path
(``aetheredge.models.anomaly.AnomalyDetector``). ``tests/data/versions-0.1.0/`` holds
the model directories MLflow wrote for one version of each kind at commit b7aaa35,
before the core moved into role packages, and each one's output on 64 hold-out rows.
Registered into today's registry as they are, byte for byte, they must load and score
as they did, to the last bits of a float: numpy picks its kernels by the CPU's vector
extensions, and on a machine without AVX-512 (numpy found X86_V3, not X86_V4) 6 of the
64 anomaly scores differed from the file's by one unit in the last place (ULP), with
the same libraries. Any change to a tree moves a score by far more.
"""

from pathlib import Path

import mlflow
import numpy as np
import pytest

from aetheredge.artifacts.registry import Registry
from aetheredge.serving.runtime import runtime_for

STORED = Path(__file__).resolve().parents[2] / "data" / "versions-0.1.0"


def register_stored(registry: Registry, kind: str) -> str:
    """Log the stored model directory into a new run and register it; the new version."""
    name = registry.name(kind)
    experiment = registry.client.get_experiment_by_name(name)
    experiment_id = (
        experiment.experiment_id
        if experiment
        else registry.client.create_experiment(
            name, artifact_location=registry.settings.artifact_location(kind)
        )
    )
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_artifacts(str(STORED / kind), "model")
    return mlflow.register_model(f"runs:/{run.info.run_id}/model", name).version


@pytest.mark.parametrize("kind", ["anomaly", "cost"])
def test_a_version_pickled_before_the_move_loads_and_serves(settings, kind):
    registry = Registry(settings.model_copy(update={"model_prefix": "stored"}))
    version = str(register_stored(registry, kind))
    expected = np.load(STORED / f"{kind}-expected.npz")
    loaded = registry.load(kind, version)
    np.testing.assert_array_max_ulp(loaded.model.output(expected["X"]), expected["output"], 4)
    runtime = runtime_for(kind, registry)
    assert runtime.load(version) == version
    served = runtime.score(expected["X"].astype(np.float32))
    assert runtime.engine == "sklearn"  # no compiled artifact: the pickle itself serves
    assert served.version == version
    np.testing.assert_allclose(served.values, expected["output"], rtol=1e-6)
