"""A small HTTP client for a running AetherEdge service."""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pandas as pd

from aetheredge.api import routes
from aetheredge.api.v1 import MAX_ROWS, row_columns
from aetheredge.kinds import ModelKind
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.settings import Settings

PARQUET = "application/vnd.apache.parquet"


class ServiceClient:
    """Calls the ``/v1`` API; raises :class:`httpx.HTTPStatusError` on 4xx/5xx."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.max_rows = max_rows
        """The most rows one scoring request carries (the service's limit)."""
        self.headers = auth(api_key)
        """The headers every request carries: the API key's, when there is one."""
        self.http = httpx.Client(base_url=base_url, headers=self.headers, timeout=timeout_s)
        self.waited = 0
        """How many 503s (store busy or away) :meth:`ingest` has waited out and retried."""

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> ServiceClient:
        """A client of the service at ``url`` (default: the settings' host and port),
        presenting ``AETHER_API_KEY`` when set."""
        key = settings.api_key.get_secret_value() if settings.api_key else None
        url = url or f"http://{settings.serve_host}:{settings.serve_port}"
        return cls(url, key, max_rows=settings.max_rows_per_request)

    @property
    def base_url(self) -> str:
        return str(self.http.base_url)

    @staticmethod
    def _ok(response: httpx.Response) -> Any:
        if response.is_error:
            raise httpx.HTTPStatusError(
                f"{response.status_code} from {response.request.url.path}: {response.text[:2000]}",
                request=response.request,
                response=response,
            )
        return response.json()

    def _get(self, path: str) -> dict[str, Any]:
        return self._ok(self.http.get(path))

    def health(self) -> dict[str, Any]:
        return self._get(routes.HEALTHZ)

    def models(self) -> list[dict[str, Any]]:
        return self._get(routes.V1_MODELS)["models"]

    def served_versions(self) -> dict[str, str] | None:
        """Versions on /healthz, or None while the service is not answering."""
        try:
            return self.health()["versions"]
        except httpx.HTTPError:
            return None

    def predict(self, kind: ModelKind, rows: Sequence[dict[str, Any]]) -> Iterator[dict]:
        """Send ``rows`` (only the columns the model takes) in requests of at most ``max_rows``.

        Yields one response body per request.
        """
        keep = row_columns(kind)
        for start in range(0, len(rows), self.max_rows):
            chunk = [
                {k: _plain(row[k]) for k in keep if k in row}
                for row in rows[start : start + self.max_rows]
            ]
            yield self._ok(self.http.post(routes.score_path(kind), json={"rows": chunk}))

    def ingest(
        self, body: bytes, content_type: str = "application/json", retries: int = 30
    ) -> dict[str, Any]:
        """POST one telemetry batch (JSON, CSV or Parquet bytes); the counts come back.

        A 503 (the store is busy or away) is retried after its ``Retry-After``, up to
        ``retries`` times: ingest is idempotent, so a retry never stores a row twice.
        """
        for _ in range(retries):
            response = self.http.post(
                routes.V1_TELEMETRY, content=body, headers={"content-type": content_type}
            )
            if response.status_code != 503:
                break
            self.waited += 1
            time.sleep(float(response.headers.get("retry-after", "1")))
        return self._ok(response)

    def ingest_frame(self, frame: pd.DataFrame, batch_rows: int = 50_000) -> Iterator[dict]:
        """Send a frame's telemetry columns as Parquet batches; yields each batch's counts."""
        frame = frame[list(TELEMETRY_COLUMNS)]
        for start in range(0, len(frame), batch_rows):
            buffer = io.BytesIO()
            frame.iloc[start : start + batch_rows].to_parquet(buffer, index=False)
            yield self.ingest(buffer.getvalue(), PARQUET)


def auth(api_key: str | None) -> dict[str, str]:
    """The ``Authorization`` header presenting ``api_key`` (none without a key)."""
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _plain(value: Any) -> Any:
    """JSON-ready scalars: numpy types to Python; a missing value (NaN) becomes null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
