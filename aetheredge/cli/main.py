"""``aetheredge``: run the platform on this machine and talk to it.

aetheredge up        start local Ray, train missing champions, deploy Serve
aetheredge status    cluster, champions and served versions
aetheredge train     retrain a model as a Ray job (promoted only if it wins)
aetheredge deploy    (re)deploy Serve following the champions; --env: to Kubernetes
aetheredge schedule  run scheduled retraining and drift checks in the foreground
aetheredge score     score a CSV/JSON file against the running service
aetheredge ingest    telemetry files to the service; FOCUS cost exports to PostgreSQL
aetheredge down      stop everything `up` started
aetheredge demo      the whole loop end to end, then shut down
aetheredge db        migrate / maintain / status of the PostgreSQL schema
aetheredge models    list / promote / rollback versions; the lifecycle's events
aetheredge keys      API keys (stored as hashes, with scopes) for the HTTP API
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import httpx
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from aetheredge import kinds
from aetheredge.api.client import ServiceClient
from aetheredge.cli.db import db
from aetheredge.cli.keys import keys
from aetheredge.cli.models import events_table, models
from aetheredge.cli.nodes import nodes
from aetheredge.kinds import ModelKind
from aetheredge.ops.cluster import LocalCluster, free_port, port_open
from aetheredge.ops.entrypoints import RETRAIN_JOB, job_argv
from aetheredge.settings import Settings
from aetheredge.settings.sources import redacted

app = typer.Typer(
    help=__doc__, no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_show_locals=False
)
console = Console()
app.add_typer(db, name="db")
app.add_typer(models, name="models")
app.add_typer(keys, name="keys")
app.add_typer(nodes, name="nodes")
_PROGRESS = re.compile(r"INFO ((anomaly|cost): .*)$")

Kind = Annotated[str, typer.Option("--model", "-m", help=f"{', '.join(kinds.names())} or all")]


def _kinds(model: str) -> tuple[ModelKind, ...]:
    if model == "all":
        return kinds.names()
    if model not in kinds.names():
        raise typer.BadParameter(f"--model must be one of {[*kinds.names(), 'all']}")
    return (model,)  # type: ignore[return-value]


def _running_cluster(settings: Settings) -> LocalCluster:
    cluster = LocalCluster.read(settings)
    if cluster is None or not cluster.alive():
        console.print("[red]No local cluster is running.[/] Start one with [bold]aetheredge up[/].")
        raise typer.Exit(1)
    cluster.activate(settings)
    return cluster


def _ensure_cluster(settings: Settings) -> LocalCluster:
    cluster = LocalCluster.read(settings)
    if cluster is not None and cluster.alive():
        cluster.activate(settings)
        return cluster
    with console.status("Starting local Ray cluster (free ports; 6379 stays Redis's)…"):
        cluster = LocalCluster.start(settings)
    console.print(
        f"[green]✓[/] Ray up: GCS {cluster.gcs_address}, dashboard {cluster.dashboard_url}"
    )
    return cluster


def _follow(
    settings: Settings,
    cluster: LocalCluster,
    label: str,
    job_id: str | None = None,
    argv: list[str] | None = None,
    metadata: dict[str, str] | None = None,
) -> dict:
    """Submit ``argv`` (or follow ``job_id``) with live progress; return its JSON summary."""
    from ray.job_submission import JobSubmissionClient

    from aetheredge.ops.ray_jobs import follow_job, job_result, submit_job

    client = JobSubmissionClient(cluster.dashboard_url)
    if job_id is None:
        job_id = submit_job(settings, client, argv or [], metadata=metadata)
    with console.status(f"{label}: Ray job {job_id}") as status:

        def on_line(line: str) -> None:
            if match := _PROGRESS.search(line):
                status.update(match.group(1))
                console.print(f"  [dim]{match.group(1)}[/]")

        final, logs = follow_job(client, job_id, on_line)
    if final != "SUCCEEDED":
        console.print(logs[-3000:], markup=False)
        console.print(f"[red]✗ job {job_id} {final}[/]")
        raise typer.Exit(1)
    return job_result(logs)


def _train_job(settings: Settings, cluster: LocalCluster, kind: ModelKind, **job: object) -> dict:
    """Run one retraining Ray job with live progress, by the retraining policy where
    ``job`` does not say otherwise; return its JSON summary."""
    from aetheredge.ops.ray_jobs import RETRAIN_KEY, policy_retrain_command

    read = {k: job.pop(k) for k in ("source", "rows", "since", "until") if k in job}
    argv = policy_retrain_command(settings, kind, read, **job)  # type: ignore[arg-type]
    summary = _follow(settings, cluster, kind, argv=argv, metadata={RETRAIN_KEY: kind})
    _verdict(summary)
    return summary


def _verdict(summary: dict) -> None:
    if "skipped" in summary:
        console.print(f"[yellow]![/] {summary['model']} skipped: {summary['skipped']}")
        return
    mark = "[green]promoted[/]" if summary["promoted"] else "[yellow]rejected[/]"
    console.print(
        f"[green]✓[/] {summary['model']} v{summary['version']} {mark}: {summary['reason']}"
    )


def _champions(settings: Settings) -> dict[ModelKind, str | None]:
    from aetheredge.artifacts.registry import Registry

    registry = Registry(settings)
    return {k: (c.version if (c := registry.champion(k)) else None) for k in kinds.names()}


def _database(settings: Settings, fresh: bool = False) -> bool:
    """Migrate the schema (dropping it first when ``fresh``); False if PostgreSQL is away."""
    import asyncio

    from aetheredge.stores.admin import drop_schema, migrate_schema
    from aetheredge.stores.postgres import UNAVAILABLE

    try:
        if fresh:
            asyncio.run(drop_schema(settings))
        report = asyncio.run(migrate_schema(settings))
    except UNAVAILABLE as exc:
        console.print(
            f"[yellow]! PostgreSQL at {redacted(settings.database_url)} is unavailable ({exc}); "
            "scoring works, ingest answers 503 until it is back[/]"
        )
        return False
    console.print(
        f"[green]✓[/] PostgreSQL schema {settings.database_schema} at version "
        f"{report.current} ({report.layout})"
    )
    return True


def _deploy(settings: Settings, cluster: LocalCluster) -> dict[str, str]:
    from aetheredge.ops.deployment import deploy

    versions: dict[ModelKind, str | None] = dict.fromkeys(kinds.names())  # follow champions
    with console.status(f"Deploying Serve on {settings.serve_host}:{settings.serve_port}…"):
        served = deploy(settings, cluster.dashboard_url, versions)
    console.print(
        f"[green]✓[/] serving {served} at http://{settings.serve_host}:{settings.serve_port}"
    )
    return served


def _endpoints(settings: Settings, cluster: LocalCluster) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("API", f"http://{settings.serve_host}:{settings.serve_port}  (docs: /docs)")
    table.add_row("Ray dashboard", cluster.dashboard_url)
    table.add_row("MLflow UI", f"mlflow ui --backend-store-uri {settings.tracking_uri}")
    table.add_row(
        "Ray jobs",
        f"ray job submit --address {cluster.dashboard_url} -- "
        + shlex.join(job_argv(RETRAIN_JOB, "--model", "cost")),
    )
    table.add_row(
        "", f"(export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH={settings.home}/ray_auth_token)"
    )
    console.print(table)


@app.command()
def up(
    rows: Annotated[int, typer.Option(help="Synthetic rows for missing champions")] = 100_000,
    workers: Annotated[int | None, typer.Option(help="Ray Train workers")] = None,
) -> None:
    """Start local Ray, train any model that has no champion, deploy Serve."""
    settings = Settings()
    running = LocalCluster.read(settings)
    if not (running and running.alive()) and port_open(settings.serve_port):
        console.print(
            f"[red]Port {settings.serve_port} is taken by another program.[/] "
            "Free it or set AETHER_SERVE_PORT."
        )
        raise typer.Exit(1)
    _database(settings)
    cluster = _ensure_cluster(settings)
    for kind, version in _champions(settings).items():
        if version is None:
            # no champion yet, maybe no data yet either: bootstrap on synthetic rows
            _train_job(settings, cluster, kind, source="synthetic", rows=rows, workers=workers)
    _deploy(settings, cluster)
    _endpoints(settings, cluster)


@app.command()
def down() -> None:
    """Stop the local cluster (Serve and every Ray process it started)."""
    settings = Settings()
    cluster = LocalCluster.read(settings)
    if cluster is None:
        console.print("Nothing to stop.")
        return
    with console.status("Stopping Ray…"):
        cluster.stop(settings)
    console.print("[green]✓[/] stopped")


@app.command()
def status() -> None:
    """Cluster, champions and what the service is serving."""
    settings = Settings()
    cluster = LocalCluster.read(settings)
    alive = cluster is not None and cluster.alive()
    console.print(f"Ray: {cluster.dashboard_url if alive else '[red]not running[/]'}")  # type: ignore[union-attr]
    console.print(f"Champions: {_champions(settings)}")
    served = ServiceClient.from_settings(settings).served_versions()
    console.print(f"Serving: {served if served else '[red]not answering[/]'}")


def _iso_8601(value: str | None) -> str | None:
    """``value`` if it is an ISO 8601 date or time (a usage error otherwise)."""
    if value is not None:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise typer.BadParameter(f"not an ISO 8601 date or time: {value!r}") from None
    return value


@app.command()
def train(
    model: Kind = "all",
    rows: Annotated[int | None, typer.Option(help="Rows to load; AETHER_RETRAIN_ROWS")] = None,
    source: Annotated[
        str | None,
        typer.Option(help="'synthetic', 'postgres' or a Parquet path; AETHER_RETRAIN_SOURCE"),
    ] = None,
    seed: int = 0,
    workers: Annotated[int | None, typer.Option(help="Ray Train workers")] = None,
    n_estimators: Annotated[int | None, typer.Option(help="Trees in the forest")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="postgres: from (ISO 8601); AETHER_RETRAIN_DAYS ago", callback=_iso_8601),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="postgres: until, excluded", callback=_iso_8601)
    ] = None,
) -> None:
    """Retrain as a Ray job on the local cluster; promote only if it beats the champion.

    What it reads is the retraining policy (AETHER_RETRAIN_SOURCE, _DAYS, _ROWS: the
    newest rows of the last days in PostgreSQL) unless an option says otherwise.
    """
    settings = Settings()
    cluster = _running_cluster(settings)
    for kind in _kinds(model):
        _train_job(
            settings,
            cluster,
            kind,
            rows=rows,
            source=source,
            seed=seed,
            workers=workers,
            n_estimators=n_estimators,
            since=since,
            until=until,
        )


@app.command(name="schedule")
def schedule_command(
    runs: Annotated[int | None, typer.Option(help="Stop after this many launches")] = None,
) -> None:
    """Run the retraining and drift schedule in the foreground on the local cluster.

    AETHER_RETRAIN_SCHEDULE and AETHER_DRIFT_SCHEDULE (cron, UTC) say when; each task
    is submitted as a Ray job. Ctrl-C stops.
    """
    from datetime import UTC

    from ray.job_submission import JobSubmissionClient

    from aetheredge.ops.schedule import Task, run, submit, tasks

    settings = Settings()
    cluster = _running_cluster(settings)
    client = JobSubmissionClient(cluster.dashboard_url)
    table = Table(title="Schedule (UTC)")
    for column in ("task", "cron", "next run"):
        table.add_column(column)
    now = datetime.now(UTC)
    for task in tasks(settings):
        table.add_row(task.name, task.cron, f"{task.next_run(now):%Y-%m-%d %H:%M}")
    console.print(table)

    def report(task: Task, due: datetime, outcome: str) -> None:
        console.print(f"{due:%Y-%m-%d %H:%M} {task.name}: {outcome}")

    try:
        run(settings, lambda task: submit(task, settings, client), report, runs=runs)
    except KeyboardInterrupt:
        console.print("schedule stopped")


@app.command(name="deploy")
def deploy_command(
    env: Annotated[
        str | None,
        typer.Option(help="development, staging or production: deploy to Kubernetes"),
    ] = None,
    helm: Annotated[bool, typer.Option(help="with --env: the Helm chart, not Kustomize")] = False,
    dry_run: Annotated[bool, typer.Option(help="with --env: plan and validate only")] = False,
    previous: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="compare with this manifest"),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="write the rendered manifest here")] = None,
    diff: Annotated[bool, typer.Option(help="print each changed object's diff")] = False,
    timeout: Annotated[int, typer.Option(help="seconds to wait for Ready")] = 900,
    context: Annotated[str | None, typer.Option(help="kubectl context")] = None,
) -> None:
    """Deploy Serve on the local cluster following the champions (later promotions swap
    in place by themselves); with --env, deploy an environment to Kubernetes: render,
    validate, print the plan, apply, wait for the RayService to be Ready, roll back on
    failure."""
    if env is not None:
        from aetheredge.cli.kubernetes import kubernetes

        kubernetes(env, helm, dry_run, previous, output, diff, timeout, context)
        return
    settings = Settings()
    _deploy(settings, _running_cluster(settings))


@app.command()
def score(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSON rows")],
    model: Kind = "anomaly",
    output: Annotated[Path | None, typer.Option(help="Write all results to this CSV")] = None,
    show: Annotated[int, typer.Option(help="Rows to print")] = 20,
) -> None:
    """Score the rows of a CSV or JSON file (records, or {"rows": [...]}) on the service."""
    kind = _kinds(model)[0]
    if path.suffix.lower() == ".json":
        loaded = json.loads(path.read_text())
        rows = loaded["rows"] if isinstance(loaded, dict) else loaded
    else:
        rows = pd.read_csv(path).to_dict("records")
    client = ServiceClient.from_settings(Settings())
    results, version = [], None
    try:
        for body in client.predict(kind, rows):
            results += body["results"]
            version = body["version"]
    except httpx.HTTPError as exc:
        console.print(f"✗ {exc}", style="red", markup=False)
        raise typer.Exit(1) from exc
    frame = pd.DataFrame(results)
    table = Table(title=f"{kind} v{version}: {len(frame)} rows")
    for column in frame.columns:
        table.add_column(column)
    for record in frame.head(show).itertuples(index=False):
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in record))
    console.print(table)
    flag = kinds.get(kind).flag
    if flag is not None:
        console.print(f"flagged {int(frame[flag.name].sum())} of {len(frame)} rows")
    if output:
        frame.to_csv(output, index=False)
        console.print(f"wrote {output}")


ingest_app = typer.Typer(help="Load data: telemetry through the service, FOCUS bills directly.")
app.add_typer(ingest_app, name="ingest")


@ingest_app.command(name="focus")
def ingest_focus(
    path: Annotated[
        Path, typer.Argument(exists=True, help="CSV, gzip CSV or Parquet, or a folder of parts")
    ],
    focus_version: Annotated[
        str | None,
        typer.Option(help="The export's FOCUS version (its metadata's FocusVersion)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the reconciliation report as JSON")
    ] = False,
) -> None:
    """Store a FOCUS 1.0, 1.1 or 1.2 export, replacing the billing periods it restates,
    and reconcile it to the cent; its usage becomes cost_usage's workload-days."""
    import asyncio

    from aetheredge.cli.focus import print_reconciliation
    from aetheredge.focus import FocusError, convert, read, read_export, reconcile
    from aetheredge.ingest.focus import store
    from aetheredge.stores.postgres import UNAVAILABLE, DatabaseUnavailableError

    settings = Settings()
    try:
        with console.status(f"reading {path.name}"):
            charges = read(read_export(path), focus_version)
    except FocusError as exc:
        console.print(f"✗ {path.name}: {exc}", style="red", markup=False)
        raise typer.Exit(1) from exc
    load, report = convert(charges), reconcile(charges)
    share = report["excluded_share"]
    failure = None
    if not charges.stored.any():
        failure = "no charge could be read; nothing stored"
    elif share > settings.focus_max_excluded_share:
        failure = (
            f"rows that cannot be read hold {share:.2%} of the BilledCost, more than "
            f"AETHER_FOCUS_MAX_EXCLUDED_SHARE ({settings.focus_max_excluded_share:.2%}); "
            "nothing stored"
        )
    if failure is None:
        try:
            stored = asyncio.run(store(settings, charges, load))
        except (DatabaseUnavailableError, *UNAVAILABLE) as exc:
            failure = f"PostgreSQL at {redacted(settings.database_url)}: {exc}"
        else:
            report["restatement"] = {"replaced_charges": stored.replaced, "charges": stored.charges}
            report["training"] = {
                "workload_days": stored.workload_days,
                "not_learnt_from": {k: v for k, v in load.skipped.items() if v},
                "cost_without_usage_by_unit": dict(load.unmeasured),
            }
    if as_json:
        print(json.dumps(report | ({"error": failure} if failure else {}), indent=2))
    else:
        print_reconciliation(console, report)
    if failure:
        console.print(f"✗ {path.name}: {failure}", style="red", markup=False)
        raise typer.Exit(1)


@ingest_app.command(name="telemetry")
def ingest_telemetry(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, Parquet, JSON")],
    batch_rows: Annotated[int, typer.Option(help="Rows per request")] = 50_000,
) -> None:
    """Send a telemetry file to the running service (POST /v1/telemetry, Parquet batches)."""
    from rich.progress import Progress

    from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS

    readers = {".parquet": pd.read_parquet, ".csv": pd.read_csv, ".json": pd.read_json}
    if path.suffix.lower() not in readers:
        raise typer.BadParameter(f"{path.name}: expected one of {sorted(readers)}")
    frame = readers[path.suffix.lower()](path)
    missing = [c for c in TELEMETRY_COLUMNS if c not in frame.columns]
    if missing:
        raise typer.BadParameter(f"{path.name} lacks column(s) {missing}")
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    client = ServiceClient.from_settings(Settings())
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    errors: list[dict] = []
    with Progress(console=console) as progress:
        task = progress.add_task(f"ingesting {path.name}", total=len(frame))
        try:
            for answer in client.ingest_frame(frame, batch_rows):
                for key in totals:
                    totals[key] += answer[key]
                done = int(progress.tasks[0].completed)
                errors += [{**e, "row": done + e["row"]} for e in answer["errors"]]
                progress.advance(task, answer["received"])
        except httpx.HTTPError as exc:
            console.print(f"✗ {exc}", style="red", markup=False)
            raise typer.Exit(1) from exc
    console.print(", ".join(f"{k} {v:,}" for k, v in totals.items()))
    for error in errors[:10]:
        console.print(f"  rejected row {error['row']}: {error['field']}: {error['msg']}")


@app.command()
def demo(
    rows: Annotated[int, typer.Option(help="Rows for the first training")] = 60_000,
    retrain_rows: Annotated[
        int, typer.Option(help="Rows for the `ray job submit` retrain")
    ] = 200_000,
) -> None:
    """The loop end to end on a fresh state dir: train, serve, score, retrain, promote,
    reject, roll back, detect drift and retrain, stop."""
    from aetheredge.demo.lifecycle import drift, rollback, show_swap
    from aetheredge.demo.samples import anomaly_samples, cost_samples
    from aetheredge.ops.ray_jobs import retrain_command

    started = time.perf_counter()
    base = Settings()
    home = base.home / "demo"
    shutil.rmtree(home, ignore_errors=True)
    os.environ["AETHER_HOME"] = str(home)
    os.environ["AETHER_DATABASE_SCHEMA"] = f"{base.database_schema}_demo"
    os.environ["AETHER_METRICS_LINGER_S"] = "0"  # no Prometheus scrapes the demo's jobs
    if port_open(base.serve_port):
        os.environ["AETHER_SERVE_PORT"] = str(free_port())
    settings = Settings()
    console.rule("[bold]AetherEdge demo")
    database = _database(settings, fresh=True)
    cluster = _ensure_cluster(settings)
    try:
        console.rule("1. Train both models with Ray Train, register in MLflow")
        for kind in kinds.names():
            _train_job(settings, cluster, kind, source="synthetic", rows=rows, n_estimators=30)
        console.rule("2. Serve them")
        before = _deploy(settings, cluster)
        client = ServiceClient.from_settings(settings)
        console.rule("3. Score sample requests")
        console.print(anomaly_samples(client, rows))
        console.print(cost_samples(client, rows))
        if database:
            from aetheredge.demo.data import show_data_plane

            console.rule("4. Telemetry in, baselines from Redis, predictions logged")
            show_data_plane(settings, client, console)
        console.rule("5. Retrain the cost model with `ray job submit`: the gates promote it")
        argv = [
            str(Path(sys.executable).parent / "ray"),
            "job",
            "submit",
            "--address",
            cluster.dashboard_url,
            "--runtime-env-json",
            json.dumps({"env_vars": settings.child_env()}),
            "--",
            *retrain_command("cost", source="synthetic", rows=retrain_rows, seed=1),
        ]
        console.print(f"$ {' '.join(argv[:4])} … -- {' '.join(argv[argv.index('--') + 1 :])}")
        subprocess.run(argv, check=True)
        champion = _champions(settings)["cost"] or before["cost"]
        show_swap(console, client, "cost", before["cost"], champion)
        console.print(cost_samples(client, rows))
        console.rule("6. A weaker challenger (2 trees on the champion's rows) is rejected")
        # The same rows: each synthetic seed bills another fleet, and a forest fitted on
        # one fleet prices another's heavy tails worse than a small one fitted on it.
        _train_job(
            settings,
            cluster,
            "cost",
            source="synthetic",
            rows=retrain_rows,
            n_estimators=2,
            seed=1,
        )
        show_swap(console, client, "cost", champion, _champions(settings)["cost"] or champion)
        console.rule("7. Roll the cost model back")
        rollback(settings, client, console, "cost")
        if database:
            console.rule("8. Drift in the telemetry triggers a retraining job")
            anomaly = _champions(settings)["anomaly"] or before["anomaly"]
            report = drift(
                client,
                console,
                rows,
                lambda argv: _follow(settings, cluster, "drift check", argv=argv),
            )
            if report["retrain_job"]:
                retrained = _follow(
                    settings, cluster, "anomaly retrain", job_id=report["retrain_job"]
                )
                _verdict(retrained)
                show_swap(console, client, "anomaly", anomaly, _champions(settings)["anomaly"])
            console.rule("9. The lifecycle's audit trail: `aetheredge models events`")
            console.print(events_table(settings, limit=12))
        console.rule("Where to look")
        _endpoints(settings, cluster)
    finally:
        with console.status("Shutting down…"):
            cluster.stop(settings)
    console.print(f"[green]✓[/] demo finished in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    app()
