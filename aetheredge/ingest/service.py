"""What ``POST /v1/telemetry`` does, as plain Python: bytes in, rows stored, counts out.

Bodies are JSON (``{"rows": [...]}``), CSV or Parquet (by ``Content-Type``). Valid rows
are written idempotently (:class:`~aetheredge.stores.postgres.writer.BatchWriter`); the answer
counts accepted, duplicate and rejected rows and names the rejected ones. The
database is reached through a small bounded pool: when no connection frees up within
``AETHER_DB_ACQUIRE_TIMEOUT_S``, or more requests are in flight than twice the pool,
or PostgreSQL is down, the answer is 503 with ``Retry-After`` and nothing is half
written (each batch is one transaction).
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from aetheredge.api.errors import RequestError
from aetheredge.api.limits import BodyLimit
from aetheredge.api.v1 import IngestResponse, RowError
from aetheredge.ingest.telemetry import READERS, Batch, FormatError, media_type, read_batch
from aetheredge.kinds.anomaly import KIND as ANOMALY
from aetheredge.kinds.anomaly import TELEMETRY_COLUMNS
from aetheredge.settings import Settings
from aetheredge.stores.online import OnlineFeatures
from aetheredge.stores.postgres import DatabaseUnavailableError
from aetheredge.stores.postgres.writer import BatchWriter, Database

log = logging.getLogger(__name__)
RETRY_AFTER_S = 1
# Bodies above this are parsed on a worker thread, keeping the event loop responsive.
THREAD_BYTES = 1024**2


def unavailable(reason: str) -> RequestError:
    return RequestError(503, {"detail": reason}, {"Retry-After": str(RETRY_AFTER_S)})


class IngestService:
    """Validates telemetry batches, stores them, and moves the entities' baselines.

    One per process: it owns a connection pool. PostgreSQL is the record; Redis's
    baselines follow it (:mod:`aetheredge.stores.online`). When Redis is down the rows are
    still stored and the answer says ``degraded``.
    """

    def __init__(
        self,
        settings: Settings,
        online: OnlineFeatures | None = None,
        database: Database | None = None,
    ) -> None:
        self.settings = settings
        self.online = online or OnlineFeatures(settings)
        self.database = database or Database(settings)
        self.max_inflight = 2 * settings.db_pool_size
        self.inflight = 0
        self.body = BodyLimit(settings.ingest_max_body_bytes, settings.body_timeout_s)

    async def writer(self) -> BatchWriter:
        return await self.database.writer("telemetry", TELEMETRY_COLUMNS)

    async def telemetry(self, body: bytes, content_type: str | None) -> IngestResponse:
        """Store a batch; refusals raise :class:`RequestError` (413, 415, 422, 503)."""
        self.body.check(len(body))
        if media_type(content_type) not in READERS:
            raise RequestError(
                415, {"detail": f"send one of {sorted(READERS)}, not {media_type(content_type)!r}"}
            )
        if self.inflight >= self.max_inflight:
            raise unavailable(f"{self.inflight} ingest requests in flight; retry shortly")
        self.inflight += 1
        try:
            return await self._store(body, content_type)
        finally:
            self.inflight -= 1

    async def _store(self, body: bytes, content_type: str | None) -> IngestResponse:
        try:
            if len(body) > THREAD_BYTES:
                batch, records = await asyncio.to_thread(_prepare, body, content_type)
            else:
                batch, records = _prepare(body, content_type)
        except FormatError as exc:
            raise RequestError(422, {"detail": str(exc)}) from None
        if batch.received > self.settings.ingest_max_rows:
            raise RequestError(
                413, {"detail": f"{batch.received} rows; at most {self.settings.ingest_max_rows}"}
            )
        try:
            accepted = await (await self.writer()).write(records, batch.days())
        except DatabaseUnavailableError as exc:
            log.warning("telemetry ingest refused with 503: %s", exc)
            raise unavailable(f"the telemetry store is unavailable ({exc})") from None
        moved, degraded = await self._baselines(batch)
        response = IngestResponse(
            received=batch.received,
            accepted=accepted,
            duplicates=len(batch) - accepted,
            rejected=batch.rejected,
            errors=[RowError(row=r.row, field=r.field, msg=r.msg) for r in batch.rejections],
            baselines_updated=moved,
            degraded=degraded,
        )
        if batch.received and not len(batch):
            raise RequestError(422, response.model_dump())
        return response

    async def _baselines(self, batch: Batch) -> tuple[int, bool]:
        """Apply the batch to the online baselines: (rows that moved one, degraded).

        Every valid row is sent, duplicates included: the update skips rows no newer
        than an entity's last, so a re-sent batch moves nothing.
        """
        if not len(batch):
            return 0, False
        X = ANOMALY.encode(batch.columns)
        try:
            return await self.online.update(
                batch.columns["ts"], batch.columns["entity_id"], X
            ), False
        except (RedisError, OSError) as exc:
            log.warning(
                "stored %d rows but Redis is unavailable for baselines: %s", len(batch), exc
            )
            return 0, True

    async def close(self) -> None:
        await self.online.close()
        await self.database.close()


def _prepare(body: bytes, content_type: str | None) -> tuple[Batch, list[tuple]]:
    batch = read_batch(body, content_type)
    return batch, batch.records()
