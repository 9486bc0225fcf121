"""``aetheredge nodes``: a multi-node Ray cluster on this machine whose nodes behave like pods.

aetheredge nodes up [--workers N] [--worker-cpus C]
    a head and N worker nodes, each with network and mount namespaces of its own and a
    private disk, and the services production shares (PostgreSQL through a relay, two
    Redis, an MLflow tracking server, a training volume); prints where each answers.
    Needs root, for the namespaces.
aetheredge nodes status
    each node's address and whether Ray holds it alive
aetheredge nodes down
    every process, link and namespace it made, gone
"""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aetheredge.ops.entrypoints import RETRAIN_JOB, job_argv
from aetheredge.ops.nodes.cluster import NodeCluster
from aetheredge.settings import Settings
from aetheredge.stores.admin import migrate_schema

nodes = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()


def _root(settings: Settings) -> Path:
    return settings.home / "nodes"


def _table(cluster: NodeCluster) -> Table:
    alive = cluster.alive_nodes()
    table = Table(title=f"network {cluster.network.subnet}")
    for column in ("node", "address", "ray"):
        table.add_column(column)
    for name, pod in cluster.pods.items():
        table.add_row(name, pod.address, "ALIVE" if pod.address in alive else "[red]not alive[/]")
    return table


@nodes.command()
def up(
    workers: Annotated[int, typer.Option(min=1, help="worker nodes")] = 2,
    worker_cpus: Annotated[int, typer.Option(min=1, help="CPUs Ray gives each worker")] = 1,
) -> None:
    """Start the head, WORKERS worker nodes and the shared services."""
    settings = Settings()
    if reason := NodeCluster.missing():
        console.print(f"[red]Cannot start nodes:[/] {reason}")
        raise typer.Exit(1)
    root = _root(settings)
    if NodeCluster.read(root) is not None:
        console.print(f"[red]Nodes are running already[/] ({root}); `aetheredge nodes down` first")
        raise typer.Exit(1)
    asyncio.run(migrate_schema(settings))
    try:
        with console.status(f"Starting a head and {workers} worker node(s)…"):
            cluster = NodeCluster.start(root, settings, workers=workers, worker_cpus=worker_cpus)
    except RuntimeError as exc:  # whatever had started is stopped again
        console.print(f"[red]Nodes did not start:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(_table(cluster))
    console.print(f"Ray dashboard: {cluster.dashboard_url} (token in {cluster.token_file})")
    console.print(f"MLflow: {cluster.settings.tracking_uri}")
    console.print(f"Serve ingress, once deployed: {cluster.ingress('head')}")
    retrain = shlex.join(job_argv(RETRAIN_JOB, "--model", "anomaly"))
    console.print(
        f"Submit a job: RAY_AUTH_TOKEN_PATH={cluster.token_file} "
        f"ray job submit --address {cluster.dashboard_url} -- {retrain}"
    )


@nodes.command()
def status() -> None:
    """Each node's address and whether Ray holds it alive."""
    cluster = NodeCluster.read(_root(Settings()))
    if cluster is None:
        console.print("No nodes are running.")
        raise typer.Exit(1)
    console.print(_table(cluster))


@nodes.command()
def down() -> None:
    """Stop every node and shared service; remove the network."""
    cluster = NodeCluster.read(_root(Settings()))
    if cluster is None:
        console.print("Nothing to stop.")
        return
    with console.status("Stopping the nodes…"):
        cluster.stop()
    console.print("[green]✓[/] stopped")
