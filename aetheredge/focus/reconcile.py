"""Every cent of an export accounted for: per provider and ``ChargeCategory``, the
file's ``BilledCost`` and ``EffectiveCost``, what was stored and what was left out,
with one reason per row left out. Stored plus left out is the file, to the cent.

Sums are exact: each cost is taken as the shortest decimal that reads back as the
number parsed (what a CSV held, to 15 significant digits) and added as a
:class:`~decimal.Decimal`, so the parts add up to the whole with no rounding at all. A
cost that is not a number counts 0 in all three, and its rows are counted by reason.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from aetheredge.focus.charges import COSTS, Charges

NONE = "(none)"


def exact(values: pd.Series) -> Decimal:
    """The exact sum of ``values`` as written (NaN counts 0)."""
    return sum((Decimal(repr(float(v))) for v in values.dropna()), Decimal(0))


def _costs(frame: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": len(frame)}
    for name in COSTS:
        out[name] = float(exact(frame[name]))
    return out


def reconcile(charges: Charges) -> dict[str, Any]:
    """The reconciliation of ``charges`` as a JSON-ready report."""
    frame = charges.frame.assign(
        _provider=charges.frame["ProviderName"].fillna(NONE).astype(str),
        _category=charges.frame["ChargeCategory"].fillna(NONE).astype(str),
        _reason=charges.reason,
    )
    groups = []
    for (provider, category), part in frame.groupby(["_provider", "_category"], sort=True):
        stored = part["_reason"].eq("")
        groups.append(
            {
                "provider": provider,
                "charge_category": category,
                "file": _costs(part),
                "stored": _costs(part[stored]),
                "excluded": _costs(part[~stored]),
            }
        )
    left = frame[frame["_reason"] != ""]
    reasons = {reason: _costs(part) for reason, part in left.groupby("_reason", sort=True)}
    stored = frame["_reason"].eq("")
    billed = frame["BilledCost"].abs()
    total = exact(billed)
    return {
        "focus_version": charges.version,
        "file": _costs(frame),
        "stored": _costs(frame[stored]),
        "excluded": _costs(frame[~stored]),
        "excluded_share": float(exact(billed[~stored]) / total) if total else 0.0,
        "by_provider_and_category": groups,
        "excluded_by_reason": reasons,
    }
