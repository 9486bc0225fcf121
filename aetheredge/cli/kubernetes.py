"""``aetheredge deploy --env ENV``: the Kubernetes deployment of one environment.

Renders ``kuberay/overlays/ENV`` (or, with ``--helm``, the chart with
``values-ENV.yaml``), validates it offline, prints the plan, then, unless ``--dry-run``,
applies it to kubectl's current context, waits for the RayService to be Ready and rolls
back on failure.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from aetheredge.ops.kubernetes import deploy
from aetheredge.ops.kubernetes.manifests import ENVIRONMENTS, namespace

console = Console()
if not console.is_terminal:  # a log or a pipe: wide enough for the plan's table
    console = Console(width=160)

STYLE = {"create": "green", "update": "yellow", "delete": "red", "unchanged": "dim"}


def show(the_plan: deploy.Plan, diffs: bool) -> None:
    """The plan: every object and what happens to it, then what the checks found."""
    title = (
        f"{the_plan.environment} -> namespace {the_plan.namespace} "
        f"({the_plan.method}, {len(the_plan.objects)} objects)"
    )
    table = Table(title=title, title_justify="left")
    for column in ("action", "kind", "name", "what"):
        table.add_column(column)
    objects = {deploy.key(o): o for o in the_plan.objects}
    for change in the_plan.changes:
        obj = objects.get((change.kind, change.name))
        what = deploy.highlights(obj) if obj else ""
        style = STYLE[change.action]
        table.add_row(f"[{style}]{change.action}[/]", change.kind, change.name, what)
    console.print(table)
    if the_plan.previous is None:
        console.print("no earlier deployment known: every object is created")
    counts = {a: sum(c.action == a for c in the_plan.changes) for a in STYLE}
    console.print(", ".join(f"{n} {a}" for a, n in counts.items() if n))
    if diffs:
        for change in the_plan.changes:
            if change.diff:
                console.print(change.diff, markup=False, highlight=False)
    checks = "KubeRay v1.7 CRDs, operator rules, Serve config, Kubernetes schemas, monitors"
    console.print(f"offline checks ({checks}): {len(the_plan.problems)} problem(s)")
    if the_plan.scan is not None:
        scan = the_plan.scan
        console.print(
            f"checkov: {scan.passed} passed, {len(scan.failed)} failed, "
            f"{len(scan.skipped)} skipped with a reason given inline"
        )
    for refusal in the_plan.refusals():
        console.print(f"[red]refused[/] {refusal}", highlight=False)
    for name, keys in sorted(deploy.secret_keys(the_plan.objects).items()):
        console.print(f"reads Secret {name} (create it first): {', '.join(sorted(keys))}")


def kubernetes(
    environment: str,
    helm: bool,
    dry_run: bool,
    previous: Path | None,
    output: Path | None,
    diffs: bool,
    timeout_s: int,
    context: str | None,
) -> None:
    """Plan, then (unless dry-run) apply with rollback; exits 1 on refusal or failure."""
    if environment not in ENVIRONMENTS:
        raise typer.BadParameter(f"expected one of {list(ENVIRONMENTS)}", param_hint="--env")
    cluster = None if dry_run else deploy.Cluster(namespace(environment), context)
    if cluster is not None and not cluster.reachable():
        console.print("[red]no cluster answers[/] at kubectl's current context; try --dry-run")
        raise typer.Exit(1)
    known = deploy.previous_from(previous) if previous else None
    if known is None and cluster is not None and not helm:
        known = cluster.recorded()
    the_plan = deploy.plan(environment, helm=helm, previous=known)
    show(the_plan, diffs)
    if output:
        output.write_text(deploy.dump(the_plan.objects))
        console.print(f"manifest written to {output}")
    if not the_plan.valid:
        console.print("[red]not deployed[/]: the manifests were refused")
        raise typer.Exit(1)
    if cluster is None:
        console.print("dry run: nothing was applied")
        return
    missing = cluster.missing_secrets(deploy.secret_keys(the_plan.objects))
    if missing:
        console.print(f"[red]not deployed[/]: the namespace lacks {', '.join(missing)}")
        raise typer.Exit(1)
    try:
        if helm:
            outcome = deploy.apply_helm(the_plan, timeout_s, context)
        else:
            outcome = deploy.apply_kustomize(the_plan, cluster, timeout_s)
    except deploy.DeployError as exc:
        console.print(f"[red]deployment failed[/]: {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[green]deployed[/]: {outcome}")
