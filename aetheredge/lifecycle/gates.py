"""Promotion gates: may a challenger replace the champion?

Both are scored on the same hold-out. The challenger must beat the champion on the
kind's *primary* metric by a relative ``margin``, and may not be worse on any gated
metric (the primary included) by more than a relative ``tolerance`` (0: no regression
at all). A version whose compiled form disagrees with it never passes. The verdict is a
:class:`Decision` carrying every comparison, which training records in MLflow and in
``model_events``.
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

    @property
    def passed(self) -> bool:
        if not math.isfinite(self.challenger):
            return False
        return (
            self.challenger >= self.bound
            if self.higher_is_better
            else self.challenger <= self.bound
        )


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

    @property
    def event(self) -> str:
        """The ``model_events`` event this decision is."""
        return "promotion" if self.promoted else "rejection"

    def details(self) -> dict[str, object]:
        """The decision as JSON-ready data (MLflow artifact, ``model_events.details``)."""
        return asdict(self) | {"checks": [asdict(c) | {"passed": c.passed} for c in self.checks]}


def _bound(champion: float, relative: float, higher_is_better: bool, stricter: bool) -> float:
    """``champion`` moved by ``relative`` of its size: up for a margin, down for a slack."""
    step = abs(champion) * relative
    better = champion + step if higher_is_better else champion - step
    worse = champion - step if higher_is_better else champion + step
    return better if stricter else worse


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
) -> Decision:
    """Apply the gates of ``kind`` to a challenger's and the champion's hold-out metrics."""
    verdict = partial(Decision, kind, challenger, champion, margin=margin, tolerance=tolerance)
    if not compiled:
        return verdict(promoted=False, reason="its compiled model disagrees with it")
    if champion is None:
        return verdict(promoted=True, reason="no champion yet")
    checks = []
    for index, (metric, higher) in enumerate(kinds.get(kind).gates):
        primary = index == 0
        theirs = champion_metrics[metric]
        relative = margin if primary else tolerance
        bound = _bound(theirs, relative, higher, stricter=primary)
        checks.append(Check(metric, metrics[metric], theirs, bound, higher, primary))
    failed = [c for c in checks if not c.passed]
    if failed:
        reason = "; ".join(
            f"{c.metric} {c.challenger:.4g} misses {'≥' if c.higher_is_better else '≤'} "
            f"{c.bound:.4g} (champion {c.champion:.4g})"
            for c in failed
        )
    else:
        lead = checks[0]
        reason = f"{lead.metric} {lead.challenger:.4g} vs {lead.champion:.4g}; no gate regressed"
    return verdict(promoted=not failed, reason=reason, checks=tuple(checks))
