"""What every benchmark prints and keeps: the machine, a table, a JSON file."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"


def machine() -> str:
    """One line naming the machine the figures were measured on."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"
    )


def show(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=f"{title}\n{machine()}")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(width=240).print(table)


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus the machine) as ``results/<name>-<time>.json``."""
    out = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), **payload}, indent=2))
    print(f"wrote {out}")
    return out
