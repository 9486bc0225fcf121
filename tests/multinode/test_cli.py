"""``aetheredge nodes``: the harness from the command line."""

import asyncio
import uuid

from typer.testing import CliRunner

from aetheredge.cli.main import app
from aetheredge.ops.nodes.cluster import NodeCluster
from aetheredge.ops.nodes.network import ip
from aetheredge.settings import Settings
from aetheredge.stores.admin import drop_schema


def test_status_shows_every_node_alive(nodes):
    home = str(nodes.train_storage.parents[1])  # <home>/nodes is the cluster's root
    result = CliRunner().invoke(app, ["nodes", "status"], env={"AETHER_HOME": home})
    assert result.exit_code == 0, result.output
    for name, pod in nodes.pods.items():
        assert any(
            name in line and pod.address in line and "ALIVE" in line
            for line in result.output.splitlines()
        ), result.output


def test_up_then_down_leaves_nothing(tmp_path, database_url):
    schema = f"nodes_cli_{uuid.uuid4().hex[:12]}"
    env = {
        "AETHER_HOME": str(tmp_path),
        "AETHER_DATABASE_URL": database_url,
        "AETHER_DATABASE_SCHEMA": schema,
    }
    runner, network = CliRunner(), None
    try:
        started = runner.invoke(app, ["nodes", "up", "--workers", "1"], env=env)
        assert started.exit_code == 0, started.output
        assert "Ray dashboard: http://" in started.output
        network = NodeCluster.read(tmp_path / "nodes").network
        again = runner.invoke(app, ["nodes", "up"], env=env)
        assert again.exit_code == 1 and "running already" in again.output
    finally:
        stopped = runner.invoke(app, ["nodes", "down"], env=env)
        asyncio.run(drop_schema(Settings(database_url=database_url, database_schema=schema)))
    assert stopped.exit_code == 0, stopped.output
    assert network.id not in ip("netns", "list").stdout
    assert ip("link", "show", network.bridge, check=False).returncode != 0
    assert runner.invoke(app, ["nodes", "status"], env=env).exit_code == 1
