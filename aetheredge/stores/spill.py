"""Where prediction-log batches wait while PostgreSQL is away: a Redis stream, else a file.

Both keep batches as opaque payloads in the order they were spilled, hand the oldest
out for replay, and forget it only once it is acknowledged (after PostgreSQL took it).
A batch replayed twice is harmless: the predictions table ignores rows it already has.

* :class:`StreamSpill`: one Redis stream per schema, shared by every replica, read
  through a consumer group so each batch goes to one replayer; a batch a dead replica
  took but never acknowledged is claimed by another after :data:`STALE_MS`.
* :class:`FileSpill`: one append-only file per process under ``<home>/spill/``, held
  with an exclusive lock, fsync'd on every append. The acknowledged offset is kept
  beside it. A file whose process died (its lock is free) is adopted and replayed.
"""

from __future__ import annotations

import fcntl
import os
import struct
import uuid
from pathlib import Path

import redis.asyncio as redis
from redis.exceptions import ResponseError

GROUP = "replay"
STALE_MS = 30_000
HEADER = struct.Struct("<I")  # payload length


class StreamSpill:
    """Spilled batches in a Redis stream (``XADD``), replayed through a consumer group."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.redis = client
        self.key = key
        self.consumer = uuid.uuid4().hex
        self._group = False

    async def _ensure_group(self) -> None:
        if not self._group:
            try:
                await self.redis.xgroup_create(self.key, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._group = True

    async def append(self, payload: bytes) -> None:
        await self._ensure_group()
        await self.redis.xadd(self.key, {"data": payload})

    async def depth(self) -> int:
        return int(await self.redis.xlen(self.key))

    async def oldest(self) -> tuple[str, bytes] | None:
        """The oldest batch this replayer may take: its own unacknowledged, a stale one,
        or the next new one."""
        await self._ensure_group()
        for start in ("0", ">"):
            reply = await self.redis.xreadgroup(GROUP, self.consumer, {self.key: start}, count=1)
            entries = reply[0][1] if reply else []
            if entries:
                return _entry(entries[0])
            if start == "0":
                _, claimed, _ = await self.redis.xautoclaim(
                    self.key, GROUP, self.consumer, STALE_MS, count=1
                )
                if claimed:
                    return _entry(claimed[0])
        return None

    async def ack(self, entry_id: str) -> None:
        await self.redis.xack(self.key, GROUP, entry_id)
        await self.redis.xdel(self.key, entry_id)


def _entry(entry: tuple) -> tuple[str, bytes]:
    entry_id, fields = entry
    return (entry_id.decode() if isinstance(entry_id, bytes) else entry_id), fields[b"data"]


class FileSpill:
    """Spilled batches in a local append-only file this process holds locked."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.offset_path = path.with_suffix(".offset")
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if another holds it
        self.offset = _read_offset(self.offset_path)

    @classmethod
    def adopt(cls, directory: Path) -> list[FileSpill]:
        """Spill files in ``directory`` whose owning process is gone, now ours."""
        adopted = []
        for path in sorted(directory.glob("predictions-*.spill")):
            try:
                adopted.append(cls(path))
            except BlockingIOError:
                continue  # a live process owns it
        return adopted

    def append(self, payload: bytes) -> None:
        os.write(self.fd, HEADER.pack(len(payload)) + payload)
        os.fsync(self.fd)

    def depth(self) -> int:
        return 1 if os.fstat(self.fd).st_size > self.offset else 0

    def oldest(self) -> tuple[int, bytes] | None:
        """The oldest unacknowledged batch: (offset after it, payload)."""
        header = os.pread(self.fd, HEADER.size, self.offset)
        length = HEADER.unpack(header)[0] if len(header) == HEADER.size else -1
        payload = os.pread(self.fd, length, self.offset + HEADER.size) if length >= 0 else b""
        if length < 0 or len(payload) < length:
            # Nothing, or the torn tail of an append its process died in (that batch
            # was never spilled, so dropping the fragment loses nothing spilled).
            os.ftruncate(self.fd, self.offset)
            return None
        return self.offset + HEADER.size + length, payload

    def ack(self, end: int) -> None:
        """Forget everything before ``end``; an emptied file starts over."""
        if end >= os.fstat(self.fd).st_size:
            os.ftruncate(self.fd, 0)
            end = 0
        self.offset = end
        tmp = self.offset_path.with_suffix(".tmp")
        tmp.write_bytes(end.to_bytes(8, "little"))
        os.replace(tmp, self.offset_path)

    def remove(self) -> None:
        """Delete an emptied file (an adopted one, once replayed)."""
        os.close(self.fd)
        self.path.unlink(missing_ok=True)
        self.offset_path.unlink(missing_ok=True)


def _read_offset(path: Path) -> int:
    try:
        return int.from_bytes(path.read_bytes()[:8], "little")
    except OSError:
        return 0
