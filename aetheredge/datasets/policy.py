"""The retraining policy: what a retraining reads when nobody says otherwise.

One policy, from the settings (``AETHER_RETRAIN_SOURCE``, ``AETHER_RETRAIN_DAYS``,
``AETHER_RETRAIN_ROWS``: by default the newest 200,000 rows of the last 7 days in
PostgreSQL), for every retraining: ``aetheredge train``, ``python -m jobs.retrain``, the
local schedule, drift-triggered retraining and the Kubernetes schedules, whose pods
read the same settings from their ConfigMap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aetheredge.settings import Settings


@dataclass(frozen=True)
class Window:
    """The time window a ``postgres`` source reads, ``[since, until)``."""

    since: datetime
    until: datetime

    @classmethod
    def last(cls, days: float, until: datetime | None = None) -> Window:
        end = until or datetime.now(UTC)
        return cls(end - timedelta(days=days), end)

    def bounds(self) -> dict[str, str]:
        """``since`` and ``until`` in ISO 8601, as run records and MLflow keep them."""
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}

    @classmethod
    def of(cls, bounds: dict[str, str]) -> Window:
        """The window whose :meth:`bounds` these are."""
        return cls(datetime.fromisoformat(bounds["since"]), datetime.fromisoformat(bounds["until"]))


@dataclass(frozen=True)
class Read:
    """What one retraining reads: a source, at most ``rows`` of it, and for ``postgres``
    the window."""

    source: str
    rows: int
    window: Window | None


@dataclass(frozen=True)
class RetrainPolicy:
    """Where a retraining reads (``postgres``, ``synthetic`` or a Parquet path), how many
    days back (for ``postgres``) and at most how many rows (the newest)."""

    source: str
    days: float
    rows: int

    @classmethod
    def of(cls, settings: Settings) -> RetrainPolicy:
        return cls(settings.retrain_source, settings.retrain_days, settings.retrain_rows)

    def window(self, since: datetime | None = None, until: datetime | None = None) -> Window:
        """``[since, until)``, each bound defaulting to the policy's: ``days`` back from
        ``until``, which defaults to now."""
        last = Window.last(self.days, until)
        return Window(since or last.since, last.until)

    def read(
        self,
        source: str | None = None,
        rows: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Read:
        """What a retraining reads: the policy, where the arguments do not override it."""
        source = source or self.source
        window = self.window(since, until) if source == "postgres" else None
        return Read(source, rows or self.rows, window)
