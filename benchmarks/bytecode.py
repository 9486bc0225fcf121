"""What compiled bytecode buys each process that starts: imports and a Ray Train fit.

``make install`` has uv compile the virtualenv's bytecode (uv writes none by default,
and where ``PYTHONDONTWRITEBYTECODE`` is set no import writes it either). Every Ray
worker, Serve replica and job driver is a new Python process, so without bytecode each
one compiles Ray, scikit-learn and MLflow from source as it starts. This times, in
fresh processes, with the venv's bytecode and without it (``PYTHONPYCACHEPREFIX``
pointed at an empty directory, which Ray's processes inherit, hides it), alternating:
  * importing Ray, the Serve application and the training module;
  * a local Ray cluster starting, then a no-op ``DataParallelTrainer.fit()`` (2 workers).

    python -m benchmarks.bytecode --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.report import save, show

IMPORTS = {
    "import ray": "import ray",
    "import serve.app": "import serve.app",
    "import train.distributed": "import train.distributed",
}
# Prints the seconds of ray.init and of a no-op fit as JSON.
RAY_TRAIN = """
import json, tempfile, time
import ray
from ray.train import RunConfig, ScalingConfig
from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer
from aetheredge.settings import Settings
from train.distributed import polling
started = time.perf_counter()
ray.init(address="local", num_cpus=2, object_store_memory=256 * 1024**2,
         include_dashboard=False, log_to_driver=False)
ready = time.perf_counter()
trainer = DataParallelTrainer(lambda: None, scaling_config=ScalingConfig(num_workers=2),
                              run_config=RunConfig(name="no-op", storage_path=tempfile.mkdtemp()))
with polling(Settings().train_poll_s):  # as the retraining jobs poll
    trainer.fit()
print(json.dumps({"ray.init (local cluster)": ready - started,
                  "no-op Ray Train fit, 2 workers": time.perf_counter() - ready}))
ray.shutdown()
"""


def timed(code: str, env: dict[str, str]) -> float:
    """Wall seconds of ``python -c code`` in a fresh process."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def ray_train(env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", RAY_TRAIN], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    variants = {"bytecode": dict(os.environ)}
    with tempfile.TemporaryDirectory() as empty:
        variants["source only"] = {**os.environ, "PYTHONPYCACHEPREFIX": empty}
        seconds: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeats):
            for variant, env in variants.items():
                for probe, code in IMPORTS.items():
                    seconds.setdefault((probe, variant), []).append(timed(code, env))
                for probe, value in ray_train(env).items():
                    seconds.setdefault((probe, variant), []).append(value)
    rows = []
    for probe in dict.fromkeys(p for p, _ in seconds):
        fast = statistics.median(seconds[probe, "bytecode"])
        slow = statistics.median(seconds[probe, "source only"])
        rows.append([probe, f"{slow:.2f}", f"{fast:.2f}", f"{slow / fast:.2f}x"])
    columns = ["what starts", "source only (s)", "bytecode (s)", "speed-up"]
    show(f"Process start with and without bytecode, median of {args.repeats}", columns, rows)
    save("bytecode", {"seconds": {f"{p} | {v}": s for (p, v), s in seconds.items()}})


if __name__ == "__main__":
    main()
