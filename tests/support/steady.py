"""Steady HTTP load from background threads, recording every answer.

Tests start it, change something underneath the service (promote a model, kill a
replica), stop it, and then read exactly which requests failed and which version
answered when.
"""

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from aetheredge.api.client import ServiceClient
from aetheredge.api.v1 import row_columns
from aetheredge.datasets.synthetic import telemetry


def anomaly_body(rows: int, seed: int) -> dict[str, Any]:
    """An anomaly scoring request of ``rows`` telemetry rows, with their entity ids."""
    frame = telemetry(rows, seed=seed, start="2026-07-01")
    keep = row_columns("anomaly")
    return {"rows": [{k: r[k] for k in keep} for r in frame.to_dict("records")]}


@dataclass(frozen=True)
class Answer:
    """One request: when it finished (``time.time()``), its status and, on success, the
    response body (served version, request id, degraded flag); on failure, what came
    back instead (the start of the body, or the client's error), so that a failure
    says whether HAProxy, Serve or the service refused."""

    at: float
    status: int
    body: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def version(self) -> str | None:
        return self.body.get("version") if self.body else None


@dataclass
class SteadyLoad:
    """``clients`` threads POSTing ``body`` to ``path`` of ``client``'s service (with
    its key) until stopped: back to back, or paced to ``rate`` requests a second in all
    (a thread that falls behind sends back to back until it catches up)."""

    client: ServiceClient
    path: str
    body: dict[str, Any]
    clients: int = 2
    rate: float | None = None
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _run(self) -> None:
        client = self.client
        interval = self.clients / self.rate if self.rate else 0.0
        due = time.monotonic()
        with httpx.Client(base_url=client.base_url, headers=client.headers, timeout=30.0) as http:
            while not self._stop.wait(max(0.0, due - time.monotonic())):
                due += interval
                try:
                    response = http.post(self.path, json=self.body)
                    if response.is_success:
                        answer = Answer(time.time(), response.status_code, response.json())
                    else:
                        answer = Answer(
                            time.time(), response.status_code, error=response.text[:200]
                        )
                except httpx.HTTPError as exc:  # no answer at all counts as a failure
                    answer = Answer(time.time(), 0, error=f"{type(exc).__name__}: {exc}")
                self.answers.append(answer)

    def __enter__(self) -> "SteadyLoad":
        self._threads = [threading.Thread(target=self._run) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def failures(self) -> list[Answer]:
        return [a for a in self.answers if not a.ok]

    def between(self, start: float, stop: float = float("inf")) -> list[Answer]:
        """The answers that came after ``start`` and by ``stop``."""
        return [a for a in self.answers if start < a.at <= stop]

    def served(self, start: float, stop: float) -> float:
        """Successful answers per second between ``start`` and ``stop``."""
        return sum(1 for a in self.between(start, stop) if a.ok) / (stop - start)

    def first(self, version: str, after: float) -> float | None:
        """When ``version`` first answered after ``after``."""
        return next((a.at for a in self.answers if a.at > after and a.version == version), None)

    def versions_between(self, start: float, stop: float) -> set[str | None]:
        return {a.version for a in self.answers if start < a.at <= stop}


def half_capacity(
    client: ServiceClient, path: str, body: dict[str, Any], clients: int = 2, probe_s: float = 4.0
) -> float:
    """Half the answers a second ``clients`` back-to-back clients get (after the first
    second): the load a failure test offers, as the soak does, so that what it counts is
    the failure's doing, not a saturated machine's. On one machine the load and the
    restarting component share the cores, which on Kubernetes they do not: back to
    back, the load slowed a restarted head's dashboard agent 4.5-fold (1.1 s idle,
    4.6 to 5.8 s) toward the raylet's fixed 15 s, and on a slower machine past it."""
    with SteadyLoad(client, path, body, clients=clients) as probe:
        time.sleep(probe_s)
    return probe.served(probe.answers[0].at + 1, probe.answers[-1].at) / 2
