"""Promotion gates: may a challenger replace the champion?

First, whatever the champion, the challenger must clear the kind's absolute floors
(R² ≥ 0 for cost: a model worse than the mean is no model; for anomaly, a recall above
0 and at most one row in five flagged) and beat the kind's naive baseline, fitted on
the same training rows, on each of its baseline gates (for cost, MAE and the
cost-weighted error of the unit-price book; for anomaly, the average precision of a
3-sigma rule on the entity baselines). Comparing with the champion
alone once promoted a cost model with R² 0.017, because the champion, trained on other
data, was worse still. A first version meets the same floors.

Then both are scored on the same hold-out. The challenger must beat the champion on
the kind's *primary* metric by a relative ``margin``, and may not be worse on any gated
metric (the primary included) by more than a relative ``tolerance`` (0: no regression
at all). A version whose compiled form disagrees with it never passes. The verdict is a
:class:`Decision` carrying every comparison, and a refusal names what was missed;
training records it in MLflow and in ``model_events``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import partial

from aetheredge import kinds
from aetheredge.kinds import ModelKind


@dataclass(frozen=True)
class Check:
    """One metric compared: the bound the challenger had to meet, and whether it did."""

    metric: str
    challenger: float
    champion: float
    bound: float
    higher_is_better: bool
    primary: bool
    against: str = "champion"  # or "floor", "baseline"
    strict: bool = False

    @property
    def passed(self) -> bool:
        if not math.isfinite(self.challenger):
            return False
        if self.strict:
            return (
                self.challenger > self.bound
                if self.higher_is_better
                else (self.challenger < self.bound)
            )
        return (
            self.challenger >= self.bound
            if self.higher_is_better
            else self.challenger <= self.bound
        )

    def missed(self) -> str:
        """What this check asked, as a refusal says it."""
        sign = (">" if self.higher_is_better else "<") + ("" if self.strict else "=")
        sign = {">=": "≥", "<=": "≤"}.get(sign, sign)
        where = {
            "floor": "the floor",
            "baseline": "the naive baseline",
            "champion": f"champion {self.champion:.4g}",
        }[self.against]
        return f"{self.metric} {self.challenger:.4g} misses {sign} {self.bound:.4g} ({where})"


@dataclass(frozen=True)
class Decision:
    """Whether ``challenger`` becomes champion of ``kind``, and why."""

    kind: ModelKind
    challenger: str
    champion: str | None
    promoted: bool
    reason: str
    margin: float
    tolerance: float
    checks: tuple[Check, ...] = ()
    floors: tuple[Check, ...] = ()

    @property
    def event(self) -> str:
        """The ``model_events`` event this decision is."""
        return "promotion" if self.promoted else "rejection"

    def details(self) -> dict[str, object]:
        """The decision as JSON-ready data (MLflow artifact, ``model_events.details``)."""
        return asdict(self) | {
            name: [asdict(c) | {"passed": c.passed} for c in getattr(self, name)]
            for name in ("checks", "floors")
        }


def _bound(champion: float, relative: float, higher_is_better: bool, stricter: bool) -> float:
    """``champion`` moved by ``relative`` of its size: up for a margin, down for a slack."""
    step = abs(champion) * relative
    better = champion + step if higher_is_better else champion - step
    worse = champion - step if higher_is_better else champion + step
    return better if stricter else worse


def floors(
    kind: ModelKind, metrics: dict[str, float], baseline_metrics: dict[str, float] | None
) -> tuple[Check, ...]:
    """The kind's absolute floors and, given the baseline's metrics, its baseline gates."""
    spec = kinds.get(kind)
    checks = [
        Check(
            f.metric,
            metrics[f.metric],
            f.bound,
            f.bound,
            f.higher_is_better,
            False,
            "floor",
            f.strict,
        )
        for f in spec.floors
    ]
    for metric, higher in spec.baseline_gates if baseline_metrics is not None else ():
        theirs = baseline_metrics[metric]  # type: ignore[index]
        checks.append(
            Check(metric, metrics[metric], theirs, theirs, higher, False, "baseline", strict=True)
        )
    return tuple(checks)


def decide(
    kind: ModelKind,
    challenger: str,
    metrics: dict[str, float],
    champion: str | None,
    champion_metrics: dict[str, float],
    *,
    compiled: bool,
    margin: float,
    tolerance: float,
    baseline_metrics: dict[str, float] | None = None,
) -> Decision:
    """Apply the gates of ``kind`` to a challenger's and the champion's hold-out metrics,
    after the floors and, given its metrics, the naive baseline."""
    verdict = partial(Decision, kind, challenger, champion, margin=margin, tolerance=tolerance)
    if not compiled:
        return verdict(promoted=False, reason="its compiled model disagrees with it")
    floor = floors(kind, metrics, baseline_metrics)
    if missed := [c for c in floor if not c.passed]:
        reason = "; ".join(c.missed() for c in missed)
        return verdict(promoted=False, reason=reason, floors=floor)
    if champion is None:
        cleared = "; clears the floors" + (" and the baseline" if baseline_metrics else "")
        return verdict(promoted=True, reason="no champion yet" + cleared, floors=floor)
    checks = []
    for index, (metric, higher) in enumerate(kinds.get(kind).gates):
        primary = index == 0
        theirs = champion_metrics[metric]
        relative = margin if primary else tolerance
        bound = _bound(theirs, relative, higher, stricter=primary)
        checks.append(Check(metric, metrics[metric], theirs, bound, higher, primary))
    failed = [c for c in checks if not c.passed]
    if failed:
        reason = "; ".join(c.missed() for c in failed)
    else:
        lead = checks[0]
        reason = f"{lead.metric} {lead.challenger:.4g} vs {lead.champion:.4g}; no gate regressed"
    return verdict(promoted=not failed, reason=reason, checks=tuple(checks), floors=floor)
