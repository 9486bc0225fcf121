"""The local cluster leaves no trace for later Ray clusters on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray._common.utils

from aetheredge.ops.cluster import LocalCluster


@pytest.fixture
def ray_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(ray._common.utils, "get_default_ray_temp_dir", lambda: str(tmp_path))
    return tmp_path


def test_stopping_forgets_the_address_ray_start_recorded(ray_temp: Path):
    address = ray_temp / "ray_current_cluster"
    address.write_text("192.0.2.2:56053")
    LocalCluster(pid=0, gcs_port=56053, dashboard_port=0, log_file="").forget_address()
    assert not address.exists()


def test_another_clusters_address_is_kept(ray_temp: Path):
    address = ray_temp / "ray_current_cluster"
    address.write_text("192.0.2.2:40000")
    LocalCluster(pid=0, gcs_port=56053, dashboard_port=0, log_file="").forget_address()
    assert address.read_text() == "192.0.2.2:40000"
