"""Imports flow one way: jobs -> train -> aetheredge, and serve -> aetheredge."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "aetheredge": {"serve", "train", "jobs"},
    "serve": {"train", "jobs"},
    "train": {"serve", "jobs"},
    "jobs": {"serve"},
}


def imported_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_against_the_flow(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_serving_replicas_do_not_import_the_training_stack():
    """A replica holds both compiled models in 400 MB: no scikit-learn and no Ray Train
    on its import path (the scikit-learn fallback imports it only when used)."""
    code = (
        "import sys, serve.app; "
        "print(sorted(m for m in ('sklearn', 'ray.train', 'train', 'jobs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
