"""``aetheredge keys``: API keys for the scoring and ingest API.

aetheredge keys new --name NAME --scope score [--scope ingest]
    a fresh key, printed once, and the AETHER_API_KEYS entry that admits it (its hash)
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from aetheredge.security.gate import new_key
from aetheredge.settings.security import ApiKey, Scope

keys = typer.Typer(help=__doc__, no_args_is_help=True)
console = Console()


@keys.command()
def new(
    name: Annotated[str, typer.Option(help="who holds it: shown in refusals and limits")],
    scope: Annotated[list[str], typer.Option(help="score, ingest or admin (repeatable)")],
) -> None:
    """Make a key. Only its hash goes into AETHER_API_KEYS; keep the key itself secret."""
    key, sha256 = new_key()
    scopes: list[Scope] = [s for s in ("score", "ingest", "admin") if s in scope]
    if unknown := set(scope) - set(scopes):
        raise typer.BadParameter(f"unknown scope(s) {sorted(unknown)}", param_hint="--scope")
    entry = ApiKey(name=name, sha256=sha256, scopes=frozenset(scopes))
    console.print(f"key (shown once): [bold]{key}[/]")
    console.print("add to AETHER_API_KEYS (a JSON list):")
    print(json.dumps(entry.model_dump(mode="json") | {"scopes": scopes}))
