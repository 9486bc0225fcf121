"""Moving the champion alias, each move recorded in MLflow and in ``model_events``.

Three ways a champion changes: a retrained challenger passes the promotion gates
(:func:`conclude`), an operator promotes a version by hand (:func:`promote`), or an
operator rolls back to the champion before (:func:`rollback`). Serving replicas follow
the alias on their own (:mod:`aetheredge.serving.swap`), so nothing here touches Serve.
"""

from __future__ import annotations

from aetheredge.artifacts.registry import (
    DECISION_ARTIFACT,
    DECISION_TAG,
    METRIC_PREFIX,
    Registry,
    VersionInfo,
)
from aetheredge.kinds import ModelKind
from aetheredge.lifecycle import events
from aetheredge.lifecycle.gates import Decision


def conclude(
    registry: Registry,
    candidate: VersionInfo,
    decision: Decision,
    champion_metrics: dict[str, float],
    baseline_metrics: dict[str, float] | None = None,
) -> None:
    """Record a retraining's verdict; move the alias if the challenger won."""
    _record_decision(registry, candidate, decision, champion_metrics, baseline_metrics or {})
    if decision.promoted:
        registry.promote(candidate.kind, candidate.version)
    events.record(
        registry.settings,
        candidate.kind,
        decision.event,
        candidate.version,
        decision.champion,
        decision.details() | {"run_id": candidate.run_id, "metrics": candidate.metrics},
    )


def _record_decision(
    registry: Registry,
    candidate: VersionInfo,
    decision: Decision,
    champion_metrics: dict[str, float],
    baseline_metrics: dict[str, float],
) -> None:
    """Write the gates' verdict, with the champion's and the baseline's figures, into the
    candidate's run."""
    client, run = registry.client, candidate.run_id
    client.set_tag(run, DECISION_TAG, "promoted" if decision.promoted else "rejected")
    client.set_tag(run, "aetheredge.decision_reason", decision.reason[:5000])
    client.set_tag(run, "aetheredge.champion_at_decision", decision.champion or "")
    for k, v in champion_metrics.items():
        client.log_metric(run, f"champion_{METRIC_PREFIX}{k}", v)
    for k, v in baseline_metrics.items():
        client.log_metric(run, f"baseline_{METRIC_PREFIX}{k}", v)
    client.log_dict(run, decision.details(), DECISION_ARTIFACT)


def promote(registry: Registry, kind: ModelKind, version: str, reason: str) -> str | None:
    """Make ``version`` champion by hand (no gates); return the champion it replaced."""
    previous = registry.promote(kind, version)
    events.record(
        registry.settings, kind, "promotion", version, previous, {"manual": True, "reason": reason}
    )
    return previous


def rollback(registry: Registry, kind: ModelKind, reason: str) -> tuple[str, str]:
    """Re-point the champion at the version it replaced; return ``(from, to)``."""
    current, restored = registry.rollback(kind)
    events.record(registry.settings, kind, "rollback", restored, current, {"reason": reason})
    return current, restored
