"""The local cluster leaves no trace for later Ray clusters on the machine, the ports
it is given are ones nothing else on the machine is handed meanwhile, and Serve's
autoscaler gets the window and metric pushes the settings ask for."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import ray._common.utils
from pydantic import ValidationError

from aetheredge.ops.cluster import PORTS_FROM, LocalCluster, ephemeral_ports, free_port, serve_env
from aetheredge.ops.deployment import application, kubernetes_serve_config
from aetheredge.settings import Settings
from aetheredge.settings.groups import SERVE_LOOK_BACK_S, SERVE_METRICS_PUSH_S


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


def test_free_ports_are_outside_what_the_kernel_hands_out_and_never_repeat():
    low, high = ephemeral_ports()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(p >= PORTS_FROM and not low <= p <= high for p in ports)


def test_a_port_in_use_on_any_address_is_not_free(monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as held:
        held.bind(("0.0.0.0", 0))
        port = held.getsockname()[1]
        held.listen()
        picks = iter([port, port + 1 if port < 65535 else port - 1])
        monkeypatch.setattr("aetheredge.ops.cluster.ephemeral_ports", lambda: (1, 2))
        monkeypatch.setattr("random.randrange", lambda *_: next(picks))
        assert free_port() != port


def test_the_autoscaler_gets_its_window_and_the_pushes_that_fill_it():
    settings = Settings(serve_look_back_period_s=10, serve_metrics_push_s=2)
    (scorer,) = application(settings, {"anomaly": None})["deployments"]
    assert scorer["autoscaling_config"]["look_back_period_s"] == 10
    env = serve_env(settings)
    assert env["RAY_SERVE_HANDLE_AUTOSCALING_METRIC_PUSH_INTERVAL_S"] == "2.0"
    assert env["RAY_SERVE_REPLICA_AUTOSCALING_METRIC_PUSH_INTERVAL_S"] == "2.0"
    unset = Settings()
    assert (
        "look_back_period_s" not in application(unset, {})["deployments"][0]["autoscaling_config"]
    )
    assert not any("PUSH_INTERVAL" in name for name in serve_env(unset))


def test_the_refusal_compares_with_serves_own_defaults():
    """The settings judge an unset window or push interval by Serve's own defaults."""
    probe = (
        "from ray.serve.config import AutoscalingConfig\n"
        "from ray.serve._private import constants as c\n"
        "print(AutoscalingConfig().look_back_period_s)\n"
        "print(c.RAY_SERVE_HANDLE_AUTOSCALING_METRIC_PUSH_INTERVAL_S)\n"
        "print(c.RAY_SERVE_REPLICA_AUTOSCALING_METRIC_PUSH_INTERVAL_S)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_SERVE_")}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    window, handle, replica = map(float, out)
    assert window == SERVE_LOOK_BACK_S
    assert handle == replica == SERVE_METRICS_PUSH_S


def test_pushes_slower_than_half_the_window_are_refused():
    with pytest.raises(ValidationError, match="at most half"):
        Settings(serve_look_back_period_s=10)  # Serve's 10-s pushes
    with pytest.raises(ValidationError, match="at most half"):
        Settings(serve_metrics_push_s=20)  # Serve's 30-s window


def test_the_manifests_refuse_a_push_interval_they_cannot_carry_to_ray():
    with pytest.raises(ValueError, match="does not reach Ray on Kubernetes"):
        kubernetes_serve_config(Settings(serve_look_back_period_s=10, serve_metrics_push_s=2))
    assert kubernetes_serve_config(Settings(serve_look_back_period_s=20))
