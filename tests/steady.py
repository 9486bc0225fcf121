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


@dataclass(frozen=True)
class Answer:
    """One request: when it finished (``time.time()``), its status and served version."""

    at: float
    status: int
    version: str | None


@dataclass
class SteadyLoad:
    """``clients`` threads POSTing ``body`` to ``path`` back to back until stopped."""

    base_url: str
    path: str
    body: dict[str, Any]
    clients: int = 2
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30.0) as http:
            while not self._stop.is_set():
                try:
                    response = http.post(self.path, json=self.body)
                    version = response.json().get("version") if response.is_success else None
                    status = response.status_code
                except httpx.HTTPError:
                    status, version = 0, None  # no answer at all counts as a failure
                self.answers.append(Answer(time.time(), status, version))

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
        return [a for a in self.answers if not 200 <= a.status < 300]

    def first(self, version: str, after: float) -> float | None:
        """When ``version`` first answered after ``after``."""
        return next((a.at for a in self.answers if a.at > after and a.version == version), None)

    def versions_between(self, start: float, stop: float) -> set[str | None]:
        return {a.version for a in self.answers if start < a.at <= stop}
