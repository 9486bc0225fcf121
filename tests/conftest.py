"""Shared fixtures: isolated platform settings per test module."""

import pytest

from aetheredge.config import Settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with a private state dir (MLflow SQLite store, Ray Train results)."""
    return Settings(home=tmp_path_factory.mktemp("aetheredge-home"))
