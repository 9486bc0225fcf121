"""Retrain one model kind end to end: data, Ray Train fit, hold-out, registry, promotion."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from aetheredge import kinds
from aetheredge.artifacts.reference import Reference
from aetheredge.artifacts.registry import Registry, VersionInfo
from aetheredge.datasets.frames import Split, load_frame, split
from aetheredge.datasets.policy import Window
from aetheredge.kinds import ModelKind
from aetheredge.lifecycle.champion import conclude
from aetheredge.lifecycle.gates import Decision, decide
from aetheredge.models import ForestModel, build_model
from aetheredge.ops.cluster import connect
from aetheredge.settings import Settings
from train.distributed import FitReport, default_workers, fit_distributed
from train.runs import Inputs, Run

log = logging.getLogger(__name__)


@dataclass
class RetrainResult:
    """What a retraining run produced and decided."""

    kind: ModelKind
    candidate: VersionInfo
    decision: Decision
    previous_champion: VersionInfo | None
    metrics: dict[str, float]
    champion_metrics: dict[str, float]
    rows: int
    fit: FitReport
    timings: dict[str, float] = field(default_factory=dict)
    baseline_metrics: dict[str, float] | None = None

    @property
    def promoted(self) -> bool:
        return self.decision.promoted

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.kind,
            "version": self.candidate.version,
            "promoted": self.promoted,
            "reason": self.decision.reason,
            "previous_champion": self.previous_champion.version if self.previous_champion else None,
            "metrics": self.metrics,
            "champion_metrics_same_holdout": self.champion_metrics,
            "baseline_metrics_same_holdout": self.baseline_metrics,
            "rows": self.rows,
            "workers": self.fit.workers,
            "fit": asdict(self.fit),
            "timings_s": self.timings,
        }


def retrain(
    kind: ModelKind,
    *,
    source: str = "synthetic",
    rows: int = 200_000,
    seed: int = 0,
    workers: int | None = None,
    params: dict[str, Any] | None = None,
    settings: Settings | None = None,
    report: Callable[[str], None] = log.info,
    window: Window | None = None,
    run_name: str | None = None,
) -> RetrainResult:
    """Train a challenger on Ray Train and promote it only if it passes the gates.

    The champion (if any) is scored on the challenger's hold-out, so both are judged
    on the same rows (:mod:`aetheredge.lifecycle.gates`). Nothing changes in the registry
    until the challenger is logged, and the alias moves only after a win, so a failure
    anywhere leaves it untouched. A ``run_name`` names the Ray Train run, so that a
    retry under it resumes from its checkpoints, on what it started on
    (:mod:`train.runs`).
    """
    settings = settings or Settings()
    params = params or {}
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    connect(settings)
    run = Run(settings.train_storage_path, f"{run_name or time.strftime('%Y%m%d-%H%M%S')}-{kind}")
    workers = workers or settings.train_workers or default_workers()
    inputs = Inputs(source, rows, seed, params, workers, window)
    if run_name:
        pinned = run.pin(inputs)
        if pinned != inputs:
            report(f"{kind}: resuming run {run.name} on what it started on: {pinned.to_json()}")
        window, workers = pinned.window, pinned.workers
    report(f"{kind}: loading {rows:,} rows from {source}")
    data = split(kind, load_frame(kind, source, rows, seed, window, settings))
    evaluated_on = source
    if kinds.get(kind).flag is not None and not data.y_holdout.any():
        # No labelled incident in the hold-out window: judge on the labelled synthetic set.
        report(f"{kind}: no labelled incidents in the hold-out; judging on synthetic labels")
        labelled = split(
            kind, load_frame(kind, "synthetic", max(len(data.X_holdout) * 5, 20_000), seed)
        )
        data = replace(data, X_holdout=labelled.X_holdout, y_holdout=labelled.y_holdout)
        evaluated_on = "synthetic"
    lap("load")
    model = build_model(kind, random_state=seed, **params)
    report(f"{kind}: Ray Train fit of {model.n_estimators} trees on {workers} worker(s)")
    fit = fit_distributed(
        model,
        data.X_train,
        data.y_train,
        num_workers=workers,
        storage_path=settings.train_storage_path,
        name=run.name,
        max_failures=settings.train_max_failures,
        trees_per_round=settings.train_trees_per_round,
        poll_s=settings.train_poll_s,
    )
    if fit.restarts:
        report(
            f"{kind}: survived {fit.restarts} worker failure(s); resumed from checkpoints "
            f"without regrowing {fit.restored_trees} tree(s) on rank 0"
        )
    lap("fit")
    metrics = model.evaluate(data.X_holdout, data.y_holdout)
    registry = Registry(settings)
    champion = registry.champion(kind)
    champion_metrics = (
        registry.load(kind, champion.version).model.evaluate(data.X_holdout, data.y_holdout)
        if champion
        else {}
    )
    baseline_metrics = naive_baseline(kind, data)
    if baseline_metrics is not None:
        report(f"{kind}: naive baseline on the same hold-out: {_fmt(baseline_metrics)}")
    lap("evaluate")
    report(f"{kind}: registering challenger (hold-out {_fmt(metrics)})")
    candidate = registry.register(
        model,
        params={
            "source": source,
            "rows": rows,
            "seed": seed,
            "workers": workers,
            "evaluated_on": evaluated_on,
            **({"label_basis": settings.cost_basis} if kinds.get(kind).bases else {}),
            **(window.bounds() if window else {}),
        },
        metrics=metrics,
        sample=data.X_holdout[:2000],
        tags={"aetheredge.kind": kind, "aetheredge.source": source},
        reference=reference(model, data.X_train, data.X_holdout),
    )
    decision = decide(
        kind,
        candidate.version,
        metrics,
        champion.version if champion else None,
        champion_metrics,
        compiled=candidate.compiled,
        margin=settings.promotion_margin,
        tolerance=settings.promotion_tolerance,
        baseline_metrics=baseline_metrics,
    )
    conclude(registry, candidate, decision, champion_metrics, baseline_metrics or {})
    try:
        run.finish()
    except OSError as exc:  # the version is registered: a storage hiccup must not undo that
        report(f"{kind}: run {run.name}'s checkpoints stay in the training storage: {exc}")
    lap("register")
    verdict = "promoted to champion" if decision.promoted else "rejected"
    verdict += f" ({decision.reason})"
    report(f"{kind}: version {candidate.version} {verdict}")
    return RetrainResult(
        kind=kind,
        candidate=candidate,
        decision=decision,
        previous_champion=champion,
        metrics=metrics,
        champion_metrics=champion_metrics,
        rows=len(data.X_train),
        fit=fit,
        timings=timings,
        baseline_metrics=baseline_metrics,
    )


def naive_baseline(kind: ModelKind, data: Split) -> dict[str, float] | None:
    """The hold-out metrics of the kind's naive baseline fitted on the training rows, or
    None for a kind without one."""
    baseline = kinds.get(kind).baseline_class()
    if baseline is None:
        return None
    return baseline().fit(data.X_train, data.y_train).evaluate(data.X_holdout, data.y_holdout)


def reference(model: ForestModel, X_train: np.ndarray, X_holdout: np.ndarray) -> Reference:
    """The distribution drift is measured against: training inputs, hold-out scores."""
    names = kinds.get(model.kind).input_names
    return Reference.fit(
        names,
        X_train[:, : len(names)],
        model.output(X_holdout),
        getattr(model, "threshold_", None),
    )


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items())
