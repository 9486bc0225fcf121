"""Scanning rendered manifests with checkov, the security scanner, offline.

checkov pins ``packaging<24``, which Ray 2.60 cannot use, so it lives in a virtualenv of
its own (``make`` builds ``.venv-checkov``) and runs as a subprocess: ``AETHER_CHECKOV``
names its executable, else ``checkov`` on ``PATH``. A check is skipped only by an
annotation on the object that says why (``checkov.io/skip1: CKV_K8S_43=<reason>``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aetheredge.ops.kubernetes.crds import Problem


def checkov() -> str | None:
    """The checkov executable: ``AETHER_CHECKOV``, else ``checkov`` on ``PATH``."""
    configured = os.environ.get("AETHER_CHECKOV")
    return configured if configured else shutil.which("checkov")


@dataclass(frozen=True)
class Scan:
    """What checkov said of a set of objects."""

    passed: int
    failed: list[Problem]
    skipped: dict[str, str]  # "<check> <resource>" -> the reason given inline


def _resource(check: dict[str, Any]) -> tuple[str, str]:
    kind, _, rest = check["resource"].partition(".")
    return kind, rest.rpartition(".")[2]


def scan(objects: list[dict[str, Any]]) -> Scan:
    """Run every checkov Kubernetes check on ``objects`` (no network: no guideline download)."""
    return scan_all({"manifest": objects})["manifest"]


def scan_all(manifests: dict[str, list[dict[str, Any]]]) -> dict[str, Scan]:
    """:func:`scan` for several named manifests at once: one checkov process, whose
    start-up is most of its time."""
    executable = checkov()
    if executable is None or not Path(executable).exists():
        raise FileNotFoundError(
            "checkov is needed to scan manifests: `make test` builds .venv-checkov, "
            "or set AETHER_CHECKOV to its executable"
        )
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for name, objects in manifests.items():
            path = Path(folder) / f"{name}.yaml"
            path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
            files += ["--file", str(path)]
        options = ["--framework", "kubernetes", "--output", "json", "--skip-download"]
        run = subprocess.run(
            [executable, *files, *options, "--compact"],
            capture_output=True,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )
    if run.returncode not in (0, 1):  # 1: some check failed
        raise RuntimeError(f"checkov failed (exit {run.returncode}): {run.stderr[-2000:]}")
    results = json.loads(run.stdout).get("results", {})

    def of(name: str, outcome: str) -> list[dict[str, Any]]:
        return [c for c in results.get(outcome, []) if Path(c["file_path"]).stem == name]

    return {
        name: Scan(
            passed=len(of(name, "passed_checks")),
            failed=[
                Problem(*_resource(c), "", f"{c['check_id']}: {c['check_name']}")
                for c in of(name, "failed_checks")
            ],
            skipped={
                f"{c['check_id']} {c['resource']}": c["check_result"].get("suppress_comment", "")
                for c in of(name, "skipped_checks")
            },
        )
        for name in manifests
    }
