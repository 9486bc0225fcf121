"""The Ray layers the core starts, named by import string and never imported.

The core sits below ``serve/``, ``train/`` and ``jobs/`` (``lint-imports`` enforces it),
yet it deploys the Serve application and submits the jobs. It names them here, as
Ray itself would be told (``serve deploy``'s ``import_path``, ``ray job submit --
python -m ...``), and only here: ``tests/unit/test_layout.py`` checks that each
string resolves and that no other core module names a Ray layer.
"""

from __future__ import annotations

SERVE_APP = "serve.app:app"  # the Serve application, as a RayService's import_path
RETRAIN_JOB = "jobs.retrain"  # the retraining driver
DRIFT_JOB = "jobs.drift"  # the drift check driver


def job_argv(module: str, *args: str) -> list[str]:
    """The command line of a Ray job running ``module`` with ``args``."""
    return ["python", "-m", module, *args]
