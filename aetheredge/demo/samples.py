"""The demo's sample requests: held-out rows of each built-in kind, scored by the
service and shown beside their true labels."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from aetheredge.api import routes
from aetheredge.api.client import ServiceClient
from aetheredge.datasets.frames import holdout_mask, load_frame
from aetheredge.kinds import ModelKind


def holdout_rows(kind: ModelKind, rows: int) -> pd.DataFrame:
    """The demo data's hold-out window: rows no model trained on."""
    frame = load_frame(kind, rows=rows, seed=0)
    return frame[holdout_mask(frame)]


def anomaly_samples(client: ServiceClient, rows: int) -> Table:
    """Five ordinary hosts and one of each incident kind, scored and flagged."""
    fleet = holdout_rows("anomaly", rows)
    picks = pd.concat(
        [
            fleet[~fleet.is_anomaly].sample(5, random_state=1),
            fleet[fleet.is_anomaly].groupby("anomaly_kind", observed=True).head(1),
        ]
    )
    body = next(client.predict("anomaly", picks.to_dict("records")))
    table = Table(
        title=f"POST {routes.score_path('anomaly')} → v{body['version']} "
        f"(threshold {body['threshold']:.3f})"
    )
    for col in ("entity", "true label", "cpu", "latency ms", "error rate", "score", "flag"):
        table.add_column(col)
    for (_, row), res in zip(picks.iterrows(), body["results"], strict=True):
        table.add_row(
            row.entity_id,
            str(row.anomaly_kind),
            f"{row.cpu_util:.2f}",
            f"{row.latency_p99_ms:.0f}",
            f"{row.error_rate:.4f}",
            f"{res['score']:.3f}",
            "⚠" if res["is_anomaly"] else "",
        )
    return table


def cost_samples(client: ServiceClient, rows: int) -> Table:
    """Six resource-days of the synthetic FOCUS bills: their effective cost beside the
    predicted one."""
    usage = holdout_rows("cost", rows).sample(6, random_state=1)
    body = next(client.predict("cost", usage.to_dict("records")))
    table = Table(title=f"POST {routes.score_path('cost')} → v{body['version']}")
    for col in ("provider", "region", "service", "pricing", "vCPU-h", "effective $", "predicted $"):
        table.add_column(col)
    for (_, row), res in zip(usage.iterrows(), body["results"], strict=True):
        table.add_row(
            row.provider,
            row.region or "(none)",
            row.service_category,
            row.pricing_category,
            f"{row.vcpu_hours:.1f}",
            f"{row.effective_cost:.2f}",
            f"{res['cost']:.2f}",
        )
    return table
