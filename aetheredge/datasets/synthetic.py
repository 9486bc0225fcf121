"""Seeded, vectorised generators of realistic telemetry, and inputs over whole ranges.

``telemetry`` simulates a fleet of services: a per-entity daily and weekly traffic cycle
with autocorrelated noise drives request rate, and the other seven metrics follow it the
way they do on real hosts (CPU and network scale with load, p99 latency grows as CPU
saturates, errors rise with saturation). Labelled incidents of four kinds are injected.

It builds every column with numpy on whole arrays: a million rows take about a second.
Cost rows come from synthetic FOCUS bills instead (:mod:`aetheredge.datasets.bills`),
read as real ones are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from aetheredge import kinds

ANOMALY_KINDS: tuple[str, ...] = ("none", "spike", "level_shift", "saturation", "error_burst")
_DURATION_STEPS = {  # kind -> (min, max) steps an incident lasts
    "spike": (1, 4),
    "level_shift": (20, 60),
    "saturation": (8, 30),
    "error_burst": (3, 15),
}


def _ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float, sigma: float):
    """Autocorrelated noise along axis 1 (AR(1) with unit-free scale ``sigma``)."""
    shocks = rng.normal(0.0, sigma * np.sqrt(1 - phi**2), size=shape)
    return lfilter([1.0], [1.0, -phi], shocks, axis=1)


def _ragged_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``range(s, s + n)`` for every (s, n) pair, without a loop."""
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def _fleet_shape(rows: int, steps: int) -> tuple[int, int]:
    steps = max(1, min(steps, rows))
    return max(1, round(rows / steps)), steps


def telemetry(
    rows: int = 200_000,
    *,
    steps_per_entity: int = 2016,
    interval_minutes: int = 5,
    incident_rate: float = 0.02,
    seed: int = 0,
    start: str = "2026-01-05",
) -> pd.DataFrame:
    """A fleet's metrics, about ``rows`` rows (entities x steps), with labelled incidents.

    Columns: ``ts``, ``entity_id``, the eight anomaly features, ``is_anomaly`` and
    ``anomaly_kind``. ``incident_rate`` is the expected fraction of anomalous rows.
    """
    rng = np.random.default_rng(seed)
    E, T = _fleet_shape(rows, steps_per_entity)
    shape = (E, T)
    col = (E, 1)

    hours = np.arange(T) * interval_minutes / 60.0 + rng.uniform(0, 24, col)
    daily = 0.5 * (1 - np.cos(2 * np.pi * hours / 24.0))
    weekday = (np.floor(hours / 24.0) % 7) < 5
    weekly = np.where(weekday, 1.0, rng.uniform(0.5, 0.85, col))
    load = (0.3 + 0.7 * daily * weekly) * np.exp(_ar1(rng, shape, 0.95, 0.12))

    request_rate = rng.lognormal(np.log(300.0), 1.0, col) * load
    cpu_peak = rng.uniform(0.35, 0.75, col)
    cpu_idle = rng.uniform(0.02, 0.08, col)
    cpu = cpu_idle + (cpu_peak - cpu_idle) * load / 1.3 + rng.normal(0, 0.015, shape)
    mem = rng.uniform(0.3, 0.6, col) + 0.08 * load + _ar1(rng, shape, 0.995, 0.02)
    net_in = request_rate * rng.uniform(2, 20, col) * 8e-3 * rng.lognormal(0, 0.05, shape)
    net_out = request_rate * rng.uniform(10, 120, col) * 8e-3 * rng.lognormal(0, 0.05, shape)
    disk = rng.uniform(0.5, 5, col) + request_rate * rng.uniform(0.001, 0.02, col)
    disk = disk * rng.lognormal(0, 0.15, shape)
    latency_base = rng.uniform(20, 150, col)

    # Incidents: Poisson count per entity, kind, start and duration, then flat indices.
    incident_kinds = np.array(ANOMALY_KINDS[1:])
    mean_len = np.mean([np.mean(v) for v in _DURATION_STEPS.values()])
    counts = rng.poisson(incident_rate * T / mean_len, E)
    n_events = int(counts.sum())
    ev_entity = np.repeat(np.arange(E), counts)
    ev_kind = rng.integers(0, len(incident_kinds), n_events)
    lo = np.array([_DURATION_STEPS[k][0] for k in incident_kinds])[ev_kind]
    hi = np.array([_DURATION_STEPS[k][1] for k in incident_kinds])[ev_kind]
    ev_len = rng.integers(lo, hi + 1)
    ev_start = rng.integers(0, np.maximum(T - ev_len, 0) + 1)
    ev_len = np.minimum(ev_len, T - ev_start)
    idx = _ragged_ranges(ev_entity * T + ev_start, ev_len)
    kind_of = np.repeat(ev_kind + 1, ev_len)
    # One magnitude draw per incident, repeated over its rows.
    mag = np.repeat(rng.uniform(0.0, 1.0, n_events), ev_len)

    flat = {
        "cpu": cpu.ravel(),
        "mem": mem.ravel(),
        "disk": disk.ravel(),
        "net_in": net_in.ravel(),
        "net_out": net_out.ravel(),
        "rps": request_rate.ravel(),
    }
    lat_mult = np.ones(E * T)
    err_add = np.zeros(E * T)
    label = np.zeros(E * T, dtype=np.int8)
    label[idx] = kind_of

    def apply(kind: str) -> tuple[np.ndarray, np.ndarray]:
        sel = kind_of == ANOMALY_KINDS.index(kind)
        return idx[sel], mag[sel]

    i, m = apply("spike")  # sudden traffic surge
    flat["rps"][i] *= 2.5 + 3 * m
    flat["net_in"][i] *= 2.5 + 3 * m
    flat["cpu"][i] = 0.88 + 0.12 * m
    lat_mult[i] *= 3 + 5 * m
    i, m = apply("level_shift")  # e.g. a leak or a bad deploy: memory, IO and latency step up
    flat["mem"][i] += 0.2 + 0.2 * m
    flat["disk"][i] *= 2.5 + 2 * m
    lat_mult[i] *= 1.6 + m
    i, m = apply("saturation")  # pinned CPU, throughput collapses, tail latency explodes
    flat["cpu"][i] = 0.97 + 0.03 * m
    flat["rps"][i] *= 0.5 + 0.3 * m
    lat_mult[i] *= 6 + 14 * m
    err_add[i] += 0.02 + 0.08 * m
    i, m = apply("error_burst")  # failing dependency: errors with little else
    err_add[i] += 0.05 + 0.35 * m
    lat_mult[i] *= 1.2 + 0.8 * m
    flat["net_out"][i] *= 0.5

    cpu_f = np.clip(flat["cpu"], 0.0, 1.0)
    queueing = 1 + 0.6 * cpu_f / (1.05 - cpu_f)
    latency = np.repeat(latency_base.ravel(), T) * queueing * lat_mult
    latency *= rng.lognormal(0, 0.08, E * T)
    err_base = np.repeat(rng.uniform(5e-4, 5e-3, E), T)
    errors = err_base * (1 + 4 * np.clip(cpu_f - 0.8, 0, None)) * rng.lognormal(0, 0.3, E * T)

    # Emit rows ordered by time, then entity, as a collector would.
    order = np.arange(E * T).reshape(E, T).T.ravel()
    ts = pd.Timestamp(start) + pd.to_timedelta(np.arange(T) * interval_minutes, unit="min")
    entities = pd.Categorical.from_codes(
        np.tile(np.arange(E), T), categories=[f"host-{e:05d}" for e in range(E)]
    )
    return pd.DataFrame(
        {
            "ts": np.repeat(ts.values, E),
            "entity_id": entities,
            "cpu_util": cpu_f[order],
            "mem_util": np.clip(flat["mem"], 0.0, 1.0)[order],
            "disk_io_mbps": np.maximum(flat["disk"], 0.0)[order],
            "net_in_mbps": flat["net_in"][order],
            "net_out_mbps": flat["net_out"][order],
            "latency_p99_ms": latency[order],
            "error_rate": np.clip(errors + err_add, 0.0, 1.0)[order],
            "request_rate": flat["rps"][order],
            "is_anomaly": label[order] > 0,
            "anomaly_kind": pd.Categorical.from_codes(label[order], categories=ANOMALY_KINDS),
        }
    )


def random_columns(kind: str, rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs spread over each feature's whole valid range, unlike any real fleet.

    Distances from the lower bound are log-uniform up to the upper bound, categories uniform: rows
    that reach split points real data rarely does, for checking a compiled model
    against its source.
    """
    rng = np.random.default_rng(seed)
    spec_of = kinds.get(kind)
    columns: dict[str, np.ndarray] = {
        spec.name: spec.low + np.expm1(rng.uniform(0.0, np.log1p(spec.high - spec.low), rows))
        for spec in spec_of.numeric
    }
    for cat in spec_of.categorical:
        columns[cat.name] = rng.choice(np.array(cat.values, dtype=object), rows)
    return columns


def random_matrix(kind: str, rows: int, seed: int = 0) -> np.ndarray:
    """A whole model input of :func:`random_columns` rows, derived z-scores drawn uniformly."""
    from aetheredge.features.baselines import Z_CLIP

    spec_of = kinds.get(kind)
    X = spec_of.encode(random_columns(kind, rows, seed))
    Z = np.random.default_rng(seed + 1).uniform(-Z_CLIP, Z_CLIP, X.shape).astype(np.float32)
    return spec_of.model_input(X, Z)
