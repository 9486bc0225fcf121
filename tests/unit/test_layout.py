"""Imports flow one way: jobs -> train -> core, and serve -> core; inside the core, each
layer imports only the layers below it. ``lint-imports`` (run by ``make test``) enforces
the contracts in ``pyproject.toml``; these tests show the contracts bite, that the core
names the Ray layers only through :mod:`aetheredge.ops.entrypoints`, and that a replica's
import path stays light."""

import ast
import importlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aetheredge.ops import entrypoints

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aetheredge", "serve", "train", "jobs")
RAY_MODULE = re.compile(r"(?<![\w.@])(serve|train|jobs)\.[a-z_]")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and their contracts, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_contracts_hold(tree):
    out = lint_imports(tree)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(
    ("module", "upward", "contract"),
    [
        ("aetheredge/features/schema.py", "aetheredge.serving.runtime", "Core layers"),
        ("aetheredge/stores/online.py", "aetheredge.lifecycle.events", "Core layers"),
        ("aetheredge/models/base.py", "train.pipeline", "Ray layers"),
        ("train/faults.py", "jobs.retrain", "Ray layers"),
        ("serve/batching.py", "train.distributed", "Serving replicas never import"),
    ],
)
def test_an_upward_import_breaks_a_contract(tree, module, upward, contract):
    path = tree / module
    path.write_text(path.read_text() + f"\nimport {upward}  # noqa\n")
    out = lint_imports(tree)
    assert out.returncode != 0
    broken = [line for line in out.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), out.stdout[-3000:]


def test_each_ray_entrypoint_the_core_names_resolves():
    module, _, attribute = entrypoints.SERVE_APP.partition(":")
    assert getattr(importlib.import_module(module), attribute) is not None
    for job in (entrypoints.RETRAIN_JOB, entrypoints.DRIFT_JOB):
        spec = importlib.util.find_spec(job)
        assert spec is not None and spec.origin is not None, job
        assert 'if __name__ == "__main__":' in Path(spec.origin).read_text(), job


def strings_naming_a_ray_layer(path: Path) -> list[str]:
    """The string constants of ``path``, docstrings aside, that name a module of
    ``serve``, ``train`` or ``jobs``."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and RAY_MODULE.search(node.value)
    ]


def test_no_other_core_module_names_a_ray_layer():
    named = {
        str(path.relative_to(ROOT)): found
        for path in (ROOT / "aetheredge").rglob("*.py")
        if path.name != "entrypoints.py" and (found := strings_naming_a_ray_layer(path))
    }
    assert named == {}
    assert strings_naming_a_ray_layer(Path(entrypoints.__file__))  # the check sees them


def test_serving_replicas_do_not_import_the_training_stack():
    """A replica holds both compiled models in 400 MB: no scikit-learn and no Ray Train
    on its import path (the scikit-learn fallback imports it only when used)."""
    code = (
        "import sys, serve.app; "
        "print(sorted(m for m in ('sklearn', 'ray.train', 'train', 'jobs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_test_modules_share_code_only_through_tests_support():
    tests = ROOT / "tests"
    offenders = {}
    for path in tests.rglob("*.py"):
        if "support" in path.relative_to(tests).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            bad = [n for n in names if n.startswith("tests") and not n.startswith("tests.support")]
            if bad or (isinstance(node, ast.ImportFrom) and node.level > 0):
                offenders.setdefault(str(path.relative_to(ROOT)), []).extend(bad or ["relative"])
    assert offenders == {}


def test_unit_tests_are_laid_out_like_the_code():
    """``tests/unit/<package>/`` holds the tests of ``aetheredge/<package>/`` (or of the
    ``serve``, ``train`` and ``evaluation`` layers); nothing else nests there."""
    unit = ROOT / "tests" / "unit"
    folders = {p.parent.relative_to(unit) for p in unit.rglob("test_*.py")} - {Path(".")}
    assert folders
    for folder in folders:
        layer = folder.parts[0] in ("serve", "train", "evaluation")
        assert (ROOT / folder if layer else ROOT / "aetheredge" / folder).is_dir(), folder
