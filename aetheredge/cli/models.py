"""``aetheredge models``: the registry's versions and the champion alias.

aetheredge models list                  versions, verdicts, hold-out figures, champion
aetheredge models promote KIND VERSION  make VERSION champion by hand (no gates)
aetheredge models rollback KIND         re-point champion at the version it replaced
aetheredge models events                the lifecycle's audit trail (model_events)

Serving replicas follow the alias within AETHER_MODEL_POLL_S: no redeploy needed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from aetheredge import kinds
from aetheredge.kinds import ModelKind
from aetheredge.settings import Settings

KINDS = " or ".join(kinds.names())

if TYPE_CHECKING:
    from aetheredge.artifacts.registry import Registry

models = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()
Reason = Annotated[str, typer.Option(help="Why; kept in model_events")]


def _kind(value: str) -> ModelKind:
    if value not in kinds.names():
        raise typer.BadParameter(f"expected one of {list(kinds.names())}")
    return value  # type: ignore[return-value]


def _registry() -> Registry:
    from aetheredge.artifacts.registry import (
        Registry,  # MLflow loads only for commands that need it
    )

    return Registry(Settings())


@models.command(name="list")
def list_versions(
    model: Annotated[str | None, typer.Option("--model", "-m", help=KINDS)] = None,
) -> None:
    """Every registered version, newest first, with its gated hold-out metrics."""
    registry = _registry()
    for kind in (_kind(model),) if model else kinds.names():
        metrics = [m for m, _ in kinds.get(kind).gates]
        table = Table(title=registry.name(kind))
        for column in ("version", "alias", "verdict", *metrics, "replaced", "compiled", "created"):
            table.add_column(column)
        for v in registry.versions(kind):
            table.add_row(
                v.version,
                ",".join(v.aliases),
                v.decision,
                *(f"{v.metrics[m]:.4g}" if m in v.metrics else "" for m in metrics),
                v.previous_champion or "",
                "✓" if v.compiled else "✗",
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v.created)),
            )
        console.print(table)


@models.command()
def promote(kind: str, version: str, reason: Reason = "manual promotion") -> None:
    """Make VERSION the champion of KIND, bypassing the gates (recorded as manual)."""
    from aetheredge.artifacts.registry import PromotionRefusedError
    from aetheredge.lifecycle.champion import promote as make_champion

    try:
        previous = make_champion(_registry(), _kind(kind), version, reason)
    except (LookupError, PromotionRefusedError) as exc:
        console.print(f"[red]✗ {exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] {kind} champion: v{previous or '-'} → v{version}")


@models.command()
def rollback(kind: str, reason: Reason = "manual rollback") -> None:
    """Re-point KIND's champion at the version it replaced."""
    from aetheredge.lifecycle.champion import rollback as roll_back

    try:
        current, restored = roll_back(_registry(), _kind(kind), reason)
    except LookupError as exc:
        console.print(f"[red]✗ {exc}[/]")
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] {kind} champion rolled back: v{current} → v{restored}")


def events_table(settings: Settings, model: ModelKind | None = None, limit: int = 20) -> Table:
    """The latest ``model_events`` rows (of ``model``, or of all), newest first."""
    from aetheredge.lifecycle import events

    table = Table(title="model_events (newest first)")
    for column in ("when (UTC)", "model", "event", "version", "previous", "why"):
        table.add_column(column)
    for e in events.recent(settings, model, limit):
        why = e.details.get("reason") or e.details.get("summary") or e.details.get("job_id", "")
        table.add_row(
            e.ts.strftime("%Y-%m-%d %H:%M:%S"),
            e.model,
            e.event,
            e.version or "",
            e.previous_version or "",
            str(why),
        )
    return table


@models.command(name="events")
def list_events(
    model: Annotated[str | None, typer.Option("--model", "-m", help=KINDS)] = None,
    limit: Annotated[int, typer.Option(help="Rows to show")] = 20,
) -> None:
    """Promotions, rejections, rollbacks, drift alarms and retrains, newest first."""
    console.print(events_table(Settings(), _kind(model) if model else None, limit))
