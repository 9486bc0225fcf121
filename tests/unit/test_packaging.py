"""The image recipe (not buildable here): Ray's official image, the project, non-root."""

import tomllib
from pathlib import Path

import ray
import yaml
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
LINES = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]


def _instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in LINES if line.startswith(f"{name} ")]


def test_it_builds_on_the_ray_release_this_project_pins():
    (base,) = _instructions("FROM")
    assert base == f"rayproject/ray:{ray.__version__}-py311"


def test_it_installs_every_package_and_runs_as_non_root():
    copied = {c.split()[-1].removeprefix("./") for c in _instructions("COPY")}
    assert {"aetheredge", "serve", "train", "jobs"} <= copied
    assert not {"benchmarks", "evaluation", "tests"} & copied
    (user,) = _instructions("USER")
    assert not user.startswith("0") and not user.startswith("root")


def test_manifests_use_this_image_and_its_state_dir():
    settings = yaml.safe_load((ROOT / "kuberay/base/settings.yaml").read_text())
    (home,) = [e.split("=", 1)[1] for e in _instructions("ENV") if e.startswith("AETHER_HOME=")]
    assert settings["data"]["AETHER_HOME"] == home
    images = {
        line.split("image:", 1)[1].strip()
        for path in (ROOT / "kuberay/base").glob("*.yaml")
        for line in path.read_text().splitlines()
        if "image: ghcr.io/aetheredge/" in line
    }
    assert images == {"ghcr.io/aetheredge/aetheredge:0.1.0"}


def test_the_wheel_ships_the_platform_and_no_benchmark_or_research_code():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = find_packages(str(ROOT), include=config["packages"]["find"]["include"])
    assert {name.split(".")[0] for name in packages} == {"aetheredge", "serve", "train", "jobs"}
    assert {"aetheredge.ops.kubernetes", "aetheredge.stores.postgres"} <= set(packages)
