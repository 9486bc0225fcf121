"""Keeping a replica's runtimes on the versions it should serve, without restarting it.

A runtime either serves a *pinned* version (``user_config``) or *follows* the champion
alias. :class:`ModelSwapper` polls the alias of followed kinds every
``AETHER_MODEL_POLL_S`` and, when it moved, loads the new version in a worker thread:
the download, the ONNX session and the warm-up call all happen while the old version
keeps answering, and :meth:`aetheredge.serving.runtime.ModelRuntime.load` makes the new one
current in one reference assignment. Requests in flight finish on the version they
started with; none fails. Plain asyncio, testable without Ray.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from aetheredge.kinds import ModelKind
from aetheredge.serving.runtime import ModelRuntime

log = logging.getLogger(__name__)
# Called after each load: kind, the runtime, engine fallbacks it cost, seconds it took.
OnLoad = Callable[[ModelKind, ModelRuntime, int, float], None]


class ModelSwapper:
    """Loads pinned versions on demand and follows the champion for the rest."""

    def __init__(
        self,
        runtimes: Mapping[ModelKind, ModelRuntime],
        interval_s: float,
        on_load: OnLoad = lambda *_: None,
    ) -> None:
        self.runtimes = runtimes
        self.interval_s = interval_s
        self.on_load = on_load
        self.pinned: dict[ModelKind, str] = {}
        self._locks = {kind: asyncio.Lock() for kind in runtimes}
        self._task: asyncio.Task[None] | None = None

    def following(self, kind: ModelKind) -> bool:
        return kind not in self.pinned

    async def load(self, kind: ModelKind, version: str, *, again: bool = False) -> bool:
        """Load ``version`` of ``kind`` unless it already serves (or ``again``).

        Whether it loaded anything.
        """
        runtime = self.runtimes[kind]
        async with self._locks[kind]:
            if runtime.ready and runtime.version == version and not again:
                return False
            fallbacks, started = runtime.fallbacks, time.perf_counter()
            await asyncio.to_thread(runtime.load, version)
            self.on_load(
                kind, runtime, runtime.fallbacks - fallbacks, time.perf_counter() - started
            )
            return True

    async def pin(self, versions: Mapping[ModelKind, str | None], *, again: bool = False) -> None:
        """Serve ``versions`` (None: follow the champion), loading what is not loaded yet.

        ``again`` reloads even loaded versions (after a change of inference threads). A
        pinned version that does not exist raises :class:`LookupError`; a followed kind
        with no champion yet stays unloaded (its requests get 503) until one appears.
        """
        self.pinned = {k: v for k, v in versions.items() if v is not None}
        for kind, version in self.pinned.items():
            await self.load(kind, version, again=again)
        await self.check(again=again)
        for kind, runtime in self.runtimes.items():
            if not runtime.ready:
                log.warning("no %s champion yet; %s requests get 503 until one exists", kind, kind)

    async def check(self, *, again: bool = False) -> dict[ModelKind, str]:
        """Move every followed kind whose champion alias moved; return what was swapped."""
        swapped: dict[ModelKind, str] = {}
        for kind, runtime in self.runtimes.items():
            if not self.following(kind):
                continue
            try:
                champion = await asyncio.to_thread(runtime.registry.champion, kind)
            except Exception as exc:  # the registry away: keep serving what is loaded
                log.warning("champion lookup for %s failed: %s: %s", kind, type(exc).__name__, exc)
                continue
            if champion is None:
                continue
            old = runtime.version if runtime.ready else None
            try:
                if not await self.load(kind, champion.version, again=again):
                    continue
            except Exception:  # a broken version never replaces a working one
                log.exception(
                    "%s v%s failed to load; still serving v%s", kind, champion.version, old
                )
                continue
            swapped[kind] = champion.version
            log.info("%s: v%s -> v%s, swapped in place", kind, old, champion.version)
        return swapped

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.check()

    def start(self) -> None:
        """Start polling on the running event loop (once; later calls do nothing)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
