"""The prediction log: every scored row lands in ``predictions``, off the request path.

Scoring hands each request's results to :meth:`PredictionLog.record`: an append to an
in-memory buffer, no I/O. A background task writes the buffer in batches (every
``AETHER_LOG_INTERVAL_S`` or ``AETHER_LOG_BATCH_ROWS`` rows) as Arrow tables sent with
COPY by the idempotent writer. The buffer is bounded (``AETHER_LOG_BUFFER_ROWS``): one
that fills because PostgreSQL falls behind goes to the local spill file, so scoring
never waits on the log. A batch PostgreSQL cannot take goes to a spill
(:mod:`aetheredge.stores.spill`): the Redis stream, or, with Redis down too, the local
append-only file. Spilled batches are replayed oldest first once PostgreSQL answers,
and while anything is spilled new batches queue behind it, so the table receives
batches in the order they were scored. Every row has a key (``ts``, ``request_id``,
``row_index``), so a batch written twice (a replay after a crash between write and
acknowledgement) is stored once.

Rows still in memory when a process is killed outright are lost: at most one
interval's worth. A PostgreSQL or Redis outage loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
import pyarrow as pa
from redis.exceptions import RedisError

from aetheredge.settings import Settings
from aetheredge.stores.online import OnlineFeatures
from aetheredge.stores.postgres import DatabaseUnavailableError
from aetheredge.stores.postgres.writer import Database
from aetheredge.stores.redis import namespace
from aetheredge.stores.spill import FileSpill, StreamSpill

log = logging.getLogger(__name__)
PREDICTION_COLUMNS = (
    "ts",
    "request_id",
    "row_index",
    "model",
    "version",
    "entity_id",
    "value",
    "flag",
    "degraded",
)
RETRY_S = 1.0
STATE_EVERY_S = 5.0  # how often on_state hears the backlog


@dataclass(frozen=True)
class Entry:
    """One scored request: when, which model and version, and one value per row."""

    ts: np.datetime64
    request_id: str
    model: str
    version: str
    entity_ids: Sequence[str | None] | None
    values: np.ndarray
    flags: np.ndarray | None
    degraded: bool


def to_table(entries: Sequence[Entry]) -> pa.Table:
    """Entries as one Arrow table of prediction rows (``PREDICTION_COLUMNS``)."""
    sizes = np.array([len(e.values) for e in entries])

    def repeated(values: list, kind: pa.DataType) -> pa.Array:
        return pa.array(np.repeat(np.array(values, dtype=object), sizes), kind)

    flags = [e.flags for e in entries]
    if all(f is None for f in flags):
        flag = pa.nulls(int(sizes.sum()), pa.bool_())
    else:
        present = np.repeat([f is not None for f in flags], sizes)
        blocks = [
            f if f is not None else np.zeros(n, bool) for f, n in zip(flags, sizes, strict=True)
        ]
        flag = pa.array(np.concatenate(blocks), pa.bool_(), mask=~present)
    entity = chain.from_iterable(
        e.entity_ids if e.entity_ids is not None else repeat(None, n)
        for e, n in zip(entries, sizes, strict=True)
    )
    stamps = np.repeat(np.array([e.ts for e in entries], dtype="datetime64[us]"), sizes)
    return pa.table(
        {
            "ts": pa.array(stamps, pa.timestamp("us", "UTC")),
            "request_id": repeated([e.request_id for e in entries], pa.string()),
            "row_index": pa.array(np.concatenate([np.arange(n, dtype=np.int32) for n in sizes])),
            "model": repeated([e.model for e in entries], pa.string()),
            "version": repeated([e.version for e in entries], pa.string()),
            "entity_id": pa.array(list(entity), pa.string()),
            "value": pa.array(np.concatenate([e.values for e in entries]), pa.float64()),
            "flag": flag,
            "degraded": pa.array(np.repeat([e.degraded for e in entries], sizes), pa.bool_()),
        }
    )


def serialize(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def deserialize(payload: bytes) -> pa.Table:
    return pa.ipc.open_stream(payload).read_all()


async def logged_rows(settings: Settings, request_id: str) -> int:
    """Rows of one request already in the ``predictions`` table."""
    from aetheredge.stores.postgres import connect

    conn = await connect(settings)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM predictions WHERE request_id = $1", request_id
        )
    finally:
        await conn.close()


class PredictionLog:
    """Buffers scored rows and writes them to ``predictions``, spilling when it must."""

    def __init__(
        self,
        settings: Settings,
        database: Database | None = None,
        online: OnlineFeatures | None = None,
        on_state: Callable[[int, dict[str, int]], None] | None = None,
    ) -> None:
        """``on_state(buffered_rows, spill_depth())`` hears the backlog every
        :data:`STATE_EVERY_S` while the log runs (for metrics)."""
        self.settings = settings
        self.on_state = on_state
        self._state_at = 0.0
        self.database = database or Database(settings)
        self.online = online or OnlineFeatures(settings)
        self.stream = StreamSpill(self.online.redis, namespace(settings) + "predlog")
        spill_dir = settings.home / "spill" / settings.database_schema
        self.file = FileSpill(spill_dir / f"predictions-{os.getpid()}-{uuid.uuid4().hex[:8]}.spill")
        self.adopted = FileSpill.adopt(spill_dir)
        self.buffer: list[Entry] = []
        self.buffered_rows = 0
        self.spilled_batches = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._retry_at = 0.0

    def record(self, entry: Entry) -> None:
        """Queue one request's rows. Never waits: when PostgreSQL falls behind and the
        buffer is full, the buffer goes to the local spill file (replayed later, in
        order), so a slow database costs disk, not scoring latency."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self.buffer.append(entry)
        self.buffered_rows += len(entry.values)
        if self.buffered_rows >= self.settings.log_buffer_rows:
            entries, self.buffer, self.buffered_rows = self.buffer, [], 0
            self.spilled_batches += 1
            self.file.append(serialize(to_table(entries)))
            log.warning(
                "prediction log behind PostgreSQL: %d rows spilled to %s",
                sum(len(e.values) for e in entries),
                self.file.path,
            )
        if self.buffered_rows >= self.settings.log_batch_rows:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.log_interval_s)
            self._wake.clear()
            try:
                await self.flush()
                await self._report()
            except Exception:  # the loop must outlive any one failure
                log.exception("prediction log flush failed; retrying")
                await asyncio.sleep(RETRY_S)

    async def _report(self) -> None:
        if self.on_state is not None and time.monotonic() >= self._state_at:
            self._state_at = time.monotonic() + STATE_EVERY_S
            self.on_state(self.buffered_rows, await self.spill_depth())

    async def flush(self) -> None:
        """Replay what is spilled (if PostgreSQL answers), then write or spill the buffer."""
        await self.replay()
        if self.buffer:
            entries, self.buffer, self.buffered_rows = self.buffer, [], 0
            try:
                await self._deliver(to_table(entries))
            except BaseException:  # neither written nor spilled: keep them for the next try
                self.buffer = entries + self.buffer
                self.buffered_rows = sum(len(e.values) for e in self.buffer)
                raise

    async def _deliver(self, table: pa.Table) -> None:
        if not await self.spilled():
            try:
                await self._write(table)
                return
            except DatabaseUnavailableError as exc:
                log.warning("predictions spilled, PostgreSQL unavailable: %s", exc)
                self._retry_at = time.monotonic() + RETRY_S
        await self._spill(serialize(table))

    async def _write(self, table: pa.Table) -> None:
        writer = await self.database.writer("predictions", PREDICTION_COLUMNS)
        days = {d.item() for d in np.unique(table.column("ts").to_numpy().astype("datetime64[D]"))}
        await writer.write(table, days)

    async def _spill(self, payload: bytes) -> None:
        self.spilled_batches += 1
        if self.file.depth() == 0:  # once the file holds batches, later ones follow them
            try:
                await self.stream.append(payload)
                return
            except (RedisError, OSError) as exc:
                log.warning("predictions spilled to %s, Redis unavailable: %s", self.file.path, exc)
        self.file.append(payload)

    async def spilled(self) -> bool:
        """Whether batches wait in a spill (then new batches must queue behind them)."""
        if self.file.depth() or any(f.depth() for f in self.adopted):
            return True
        try:
            return await self.stream.depth() > 0
        except (RedisError, OSError):
            return False

    async def spill_depth(self) -> dict[str, int]:
        """Batches waiting in each spill (stream: -1 when Redis does not answer)."""
        try:
            stream = await self.stream.depth()
        except (RedisError, OSError):
            stream = -1
        return {"stream": stream, "file": self.file.depth() + sum(f.depth() for f in self.adopted)}

    async def replay(self) -> int:
        """Move spilled batches into PostgreSQL, oldest first; returns how many moved."""
        if time.monotonic() < self._retry_at:
            return 0
        moved = 0
        try:
            moved += await self._replay_stream()
            for spill in [*self.adopted, self.file]:
                while (oldest := spill.oldest()) is not None:
                    end, payload = oldest
                    await self._write(deserialize(payload))
                    spill.ack(end)
                    moved += 1
            for spill in [f for f in self.adopted if not f.depth()]:
                spill.remove()
                self.adopted.remove(spill)
        except DatabaseUnavailableError:
            self._retry_at = time.monotonic() + RETRY_S
        except (RedisError, OSError) as exc:
            log.warning("cannot read the spill stream yet: %s", exc)
            self._retry_at = time.monotonic() + RETRY_S
        if moved:
            log.info("replayed %d spilled prediction batches", moved)
        return moved

    async def _replay_stream(self) -> int:
        moved = 0
        if await self.stream.depth() == 0:
            return 0
        while (oldest := await self.stream.oldest()) is not None:
            entry_id, payload = oldest
            await self._write(deserialize(payload))
            await self.stream.ack(entry_id)
            moved += 1
        return moved

    async def close(self) -> None:
        """Write (or spill) everything buffered, then stop."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.flush()
