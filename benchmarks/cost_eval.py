"""The cost model on FOCUS bills: every cent reconciled, and hold-out error against the
naive per-SKU price book measured in the same run, overall, by provider and by service
category; and the model's grain (a resource's day) against a resource's day at each
SKU price and against each charge line, the forest and the book fitted on each.

The bills are synthetic FOCUS exports of four providers (``aetheredge.datasets.bills``),
written to gzip CSV in each FOCUS version and read back as ``aetheredge ingest focus``
reads a file. The model keeps its defaults (chosen on other data, ``benchmarks/tree_rows.py``);
the bill's seed is used nowhere else. The newest fifth of the days is held out.

    python -m benchmarks.cost_eval --resources 1500 --days 30
"""

from __future__ import annotations

import argparse
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from aetheredge import kinds
from aetheredge.datasets.bills import focus_bill
from aetheredge.focus import Charges, convert, read, read_export, reconcile, spec
from aetheredge.focus.days import GRAINS
from aetheredge.models import build_model
from aetheredge.models.baselines import UnitPriceBaseline
from aetheredge.models.evaluation import regression_metrics
from benchmarks.report import RESULTS, machine, save, show

SEED = 2027  # this benchmark's bill: no test's, and not the one the grain was chosen on
HOLDOUT = 0.2
COST = kinds.get("cost")


def reconciliation(resources: int, days: int) -> tuple[list[list[str]], dict, Charges]:
    """Each version's bill through a file and the reader: file, stored and left out per
    provider and charge category, checked to the cent. The 1.2 bill's charges come back."""
    rows, totals, charges = [], {}, None
    with tempfile.TemporaryDirectory() as tmp:
        for version in spec.VERSIONS:
            path = Path(tmp) / f"bill-{version}.csv.gz"
            focus_bill(resources, days, SEED, version=version).to_csv(path, index=False)
            read_back = read(read_export(path))
            report = reconcile(read_back)
            for group in report["by_provider_and_category"]:
                file, stored, left = group["file"], group["stored"], group["excluded"]
                exact = all(
                    Decimal(repr(stored[c])) + Decimal(repr(left[c])) == Decimal(repr(file[c]))
                    for c in ("BilledCost", "EffectiveCost")
                )
                rows.append(
                    [
                        version,
                        group["provider"],
                        group["charge_category"],
                        f"{file['rows']:,}",
                        f"{file['BilledCost']:,.2f}",
                        f"{file['EffectiveCost']:,.2f}",
                        f"{stored['EffectiveCost']:,.2f}",
                        f"{left['EffectiveCost']:,.2f}",
                        "yes" if exact else "NO",
                    ]
                )
            totals[version] = {k: report[k] for k in ("file", "stored", "excluded")}
            charges = read_back
    assert charges is not None
    return rows, totals, charges


def _rows(charges: Charges, grain: str) -> pd.DataFrame:
    return COST.labelled(convert(charges, grain).frame.rename(columns={"period_start": "ts"}))


def _fit(frame: pd.DataFrame, late: np.ndarray, trees: int) -> tuple[np.ndarray, np.ndarray]:
    """The forest's and the price book's predictions for the ``late`` rows of ``frame``,
    both fitted on the others."""
    X, y = COST.encode(frame), frame[COST.target].to_numpy()
    model = build_model("cost", n_estimators=trees, random_state=0, n_jobs=-1)
    model.fit(X[~late], y[~late])
    book = UnitPriceBaseline().fit(X[~late], y[~late])
    return model.predict(X[late]), book.predict(X[late])


def evaluation(charges: Charges, trees: int) -> dict:
    """Hold-out error of the forest and the price book on the model's rows (resource-
    days); and, for each grain of :data:`GRAINS`, both fitted on that grain, their
    predictions summed per resource-day, on the same days."""
    days = _rows(charges, "resource-day")
    late = (days["ts"] > days["ts"].quantile(1.0 - HOLDOUT)).to_numpy()
    cut = days.loc[late, "ts"].min()
    forest, book = _fit(days, late, trees)
    held = days[late].assign(forest=forest, book=book)
    by_grain = held.set_index(["workload_id", "ts"])[[COST.target]]
    sizes = {}
    for grain in GRAINS:
        frame = days if grain == "resource-day" else _rows(charges, grain)
        mask = (frame["ts"] >= cut).to_numpy()
        fitted = (forest, book) if grain == "resource-day" else _fit(frame, mask, trees)
        for name, predicted in zip(("forest", "book"), fitted, strict=True):
            summed = frame[mask].assign(p=predicted).groupby(["workload_id", "ts"])["p"].sum()
            by_grain[f"{grain} {name}"] = summed.reindex(by_grain.index).fillna(0.0)
        sizes[grain] = len(frame)
    return {"days": len(days), "held": held, "by_grain": by_grain, "sizes": sizes}


def _metrics(group: pd.DataFrame, column: str) -> dict[str, float]:
    return regression_metrics(group[COST.target].to_numpy(), group[column].to_numpy())


def _row(name: str, group: pd.DataFrame) -> list[str]:
    forest, book = _metrics(group, "forest"), _metrics(group, "book")
    return [
        name,
        f"{len(group):,}",
        f"{group[COST.target].sum():,.0f}",
        f"{forest['mae']:.3f}",
        f"{book['mae']:.3f}",
        f"{forest['mae'] / book['mae']:.2f}x",
        f"{forest['wape']:.3f}",
        f"{book['wape']:.3f}",
        f"{forest['wape'] / book['wape']:.2f}x",
        f"{forest['r2']:.3f}",
        f"{book['r2']:.3f}",
    ]


def plot(held: pd.DataFrame, out: Path) -> Path:
    """Cost-weighted error of the forest and the price book, by provider and by service
    category."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, by in zip(axes, ("provider", "service_category"), strict=True):
        groups = sorted(held.groupby(by), key=lambda g: -g[1][COST.target].sum())
        names = [str(name) for name, _ in groups]
        x = np.arange(len(names))
        for offset, column, label in ((-0.2, "forest", "forest"), (0.2, "book", "price book")):
            ax.bar(x + offset, [_metrics(g, column)["wape"] for _, g in groups], 0.4, label=label)
        ax.set_xticks(x, names, rotation=20)
        ax.set_title(f"hold-out cost-weighted error by {by}")
        ax.set_ylabel("sum |error| / sum cost")
        ax.legend()
    fig.suptitle(machine(), fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=110)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1_500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()
    rows, totals, charges = reconciliation(args.resources, args.days)
    show(
        "FOCUS bills through the reader: stored + left out = file (EffectiveCost shown)",
        [
            "version",
            "provider",
            "charge",
            "rows",
            "BilledCost",
            "EffectiveCost",
            "stored",
            "left out",
            "to the cent",
        ],
        rows,
    )
    result = evaluation(charges, args.trees)
    held = result["held"]
    columns = [
        "rows",
        "n",
        "cost",
        "MAE",
        "book MAE",
        "ratio",
        "wape",
        "book wape",
        "ratio",
        "R²",
        "book R²",
    ]
    table = [_row("all", held)]
    table += [_row(str(p), g) for p, g in held.groupby("provider")]
    table += [_row(str(c), g) for c, g in held.groupby("service_category")]
    show(
        f"Hold-out resource-days ({len(held):,} of {result['days']:,}; the newest fifth): "
        "the forest against the per-SKU price book, same rows",
        columns,
        table,
    )
    by_grain = result["by_grain"]
    truth = by_grain[COST.target].to_numpy()
    grains = {
        grain: {
            name: regression_metrics(truth, by_grain[f"{grain} {name}"].to_numpy())
            for name in ("forest", "book")
        }
        for grain in GRAINS
    }
    base = grains["resource-day"]["forest"]["mae"]
    show(
        "The grain: forest and price book fitted on each, summed per hold-out resource-day",
        [
            "grain",
            "training rows",
            "forest MAE",
            "book MAE",
            "forest wape",
            "book wape",
            "forest R²",
            "forest MAE vs resource-day",
            "book MAE vs resource-day forest",
        ],
        [
            [
                grain,
                f"{result['sizes'][grain]:,}",
                f"{m['forest']['mae']:.3f}",
                f"{m['book']['mae']:.3f}",
                f"{m['forest']['wape']:.3f}",
                f"{m['book']['wape']:.3f}",
                f"{m['forest']['r2']:.3f}",
                f"{m['forest']['mae'] / base:.2f}x",
                f"{m['book']['mae'] / base:.2f}x",
            ]
            for grain, m in grains.items()
        ],
    )
    png = plot(held, RESULTS / "cost_eval.png")
    print(f"wrote {png}")
    save(
        "cost_eval",
        {
            "args": vars(args),
            "reconciliation": totals,
            "forest": _metrics(held, "forest"),
            "price_book": _metrics(held, "book"),
            "grains_per_resource_day": grains,
            "rows": result["sizes"],
        },
    )


if __name__ == "__main__":
    main()
