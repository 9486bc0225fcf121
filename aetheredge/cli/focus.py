"""How ``aetheredge ingest focus`` prints an export's reconciliation."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table


def print_reconciliation(console: Console, report: dict[str, Any]) -> None:
    """The reconciliation by provider and charge category, what was left out and why,
    and what the cost model gets."""
    table = Table(title=f"FOCUS {report['focus_version']}: every cent of the file")
    for name in ("provider", "charge", "rows", "BilledCost", "EffectiveCost", "stored", "left out"):
        table.add_column(name, justify="left" if name in ("provider", "charge") else "right")
    for group in report["by_provider_and_category"]:
        file, stored, left = group["file"], group["stored"], group["excluded"]
        table.add_row(
            group["provider"],
            group["charge_category"],
            f"{file['rows']:,}",
            f"{file['BilledCost']:,.2f}",
            f"{file['EffectiveCost']:,.2f}",
            f"{stored['BilledCost']:,.2f}",
            f"{left['BilledCost']:,.2f}",
        )
    console.print(table)
    for reason, part in report["excluded_by_reason"].items():
        console.print(
            f"  left out {part['rows']:,} rows (BilledCost {part['BilledCost']:,.2f}): {reason}",
            markup=False,
        )
    if restated := report.get("restatement"):
        training = report["training"]
        console.print(
            f"stored {restated['charges']:,} charges, replacing {restated['replaced_charges']:,}"
            f" of the billing periods they restate; {training['workload_days']:,} workload-days "
            "for the cost model"
        )
        for reason, count in training["not_learnt_from"].items():
            console.print(f"  the model does not learn from {count:,} charges: {reason}")
        if unmeasured := sum(training["cost_without_usage_by_unit"].values()):
            top = Counter(training["cost_without_usage_by_unit"]).most_common(5)
            units = ", ".join(f"{u or '(none)'} ${c:,.2f}" for u, c in top)
            learnt = sum(
                row["stored"]["EffectiveCost"]
                for row in report["by_provider_and_category"]
                if row["charge_category"] == "Usage"
            )
            console.print(
                f"  {unmeasured / learnt if learnt else 0:.0%} of the stored usage cost is on "
                f"charges whose unit gives no usage the model reads: {units}",
                markup=False,
            )
