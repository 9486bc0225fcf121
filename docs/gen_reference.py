"""The reference pages, generated from the code at every ``mkdocs build``.

Run by the ``gen-files`` plugin (``mkdocs.yml``): nothing here is kept by hand.

- ``reference/settings.md``: :class:`aetheredge.settings.Settings`, group by group;
- ``reference/cli.md``: every ``aetheredge`` command, its options and their defaults;
- ``reference/http.md`` and ``reference/openapi.json``: the service's OpenAPI document,
  as the Serve application builds it;
- ``changelog.md``: ``CHANGELOG.md``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mkdocs_gen_files
import typer.main
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from aetheredge.cli.main import app as cli
from aetheredge.settings import GROUPS, Settings
from serve.app import api

ROOT = Path(__file__).resolve().parents[1]


def cell(text: object) -> str:
    """``text`` fit for one Markdown table cell."""
    text = str(text).replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def default_of(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return f"`{field.default_factory()!r}`"
    if field.default is PydanticUndefined or field.default is None:
        return "none"
    return f"`{field.default}`"


def type_of(field: FieldInfo) -> str:
    shown = getattr(field.annotation, "__name__", None) or str(field.annotation)
    return f"`{shown.replace('typing.', '').replace('aetheredge.settings.security.', '')}`"


def settings_page() -> str:
    lines = [
        "# Settings",
        "",
        "Every process (CLI, Ray job drivers, Train workers, Serve replicas) builds its",
        "configuration from one `Settings` (`aetheredge/settings/`): each field is the",
        "environment variable `AETHER_<FIELD>`. Where `AETHER_SECRETS_DIR` (default",
        "`/var/run/secrets/aetheredge`) exists, a file named like a variable",
        "(`AETHER_DATABASE_URL`) sets it; the environment still wins. The fields are grouped",
        "by the component that reads them.",
        "",
    ]
    for group in GROUPS:
        lines += [f"## {group.__name__.removesuffix('Settings')}", "", inspect.getdoc(group), ""]
        lines += ["| variable | type | default | meaning |", "|---|---|---|---|"]
        for name, field in group.model_fields.items():
            assert name in Settings.model_fields, name
            variable = f"`AETHER_{name.upper()}`"
            row = (variable, type_of(field), default_of(field), cell(field.description))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def commands(group: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """Every command under ``group`` (Typer's own click), depth first, with its path."""
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        yield path, command
        if hasattr(command, "commands"):
            yield from commands(command, path)


def help_block(command: Any) -> list[str]:
    """A command's help as it wrote it: a group's help lists its commands in columns."""
    return ["```text", inspect.cleandoc(command.help or ""), "```"]


def cli_page() -> str:
    root = typer.main.get_command(cli)
    lines = ["# Command line", "", *help_block(root), ""]
    for path, command in commands(root, "aetheredge"):
        lines += [f"## `{path}`", "", *help_block(command), ""]
        options = [p for p in command.params if p.name != "help"]
        if not options:
            continue
        lines += ["| option or argument | default | meaning |", "|---|---|---|"]
        for param in options:
            name = " / ".join(param.opts) if param.param_type_name == "option" else param.name
            shown = "none" if param.default in (None, ()) else f"`{param.default}`"
            lines.append(f"| `{name}` | {shown} | {cell(getattr(param, 'help', '') or '')} |")
        lines.append("")
    return "\n".join(lines)


def http_page(document: dict[str, Any]) -> str:
    lines = [
        "# HTTP API",
        "",
        f"{document['info']['title']} {document['info']['version']}: "
        f"{document['info'].get('summary', '')} The machine-readable document is "
        "[openapi.json](openapi.json); a running service serves it at `/openapi.json`, "
        "with interactive docs at `/docs`.",
        "",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            lines += [f"## `{method.upper()} {path}`", ""]
            if "summary" in operation:
                lines += [operation["summary"], ""]
            if operation.get("security"):
                lines += ["Needs an API key (`Authorization: Bearer ...`).", ""]
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                lines += ["Bodies: " + ", ".join(f"`{kind}`" for kind in body), ""]
            lines += ["| status | meaning |", "|---|---|"]
            for status, answer in operation["responses"].items():
                lines.append(f"| {status} | {cell(answer.get('description', ''))} |")
            lines.append("")
    return "\n".join(lines)


document = api.openapi()
with mkdocs_gen_files.open("changelog.md", "w") as out:  # one source: CHANGELOG.md
    out.write((ROOT / "CHANGELOG.md").read_text())
for name, text in (
    ("settings.md", settings_page()),
    ("cli.md", cli_page()),
    ("http.md", http_page(document)),
    ("openapi.json", json.dumps(document, indent=2)),
):
    with mkdocs_gen_files.open(f"reference/{name}", "w") as out:
        out.write(text)
