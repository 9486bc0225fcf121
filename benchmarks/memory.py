"""Peak memory of this process and everything it started (Ray's raylet, workers, ...)."""

from __future__ import annotations

import threading
from types import TracebackType

import psutil


def tree_pss_bytes() -> int:
    """Proportional set size of this process and its descendants.

    PSS splits a shared page among the processes mapping it, so Ray's shared object
    store counts once, not once per worker that reads it.
    """
    root = psutil.Process()
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # exited between listing and reading
    return total


class PeakMemory:
    """Samples :func:`tree_pss_bytes` every ``interval_s`` while in the ``with`` block;
    ``peak_mib`` is the highest sample and ``added_mib`` its rise over the sample
    taken on entry.

    A sample is not free: the kernel walks every mapping of every process, about 4 ms
    each for Ray's processes here (they all map the object store), so a dozen of them
    sampled four times a second took a fifth of a core from the fits being measured.
    """

    def __init__(self, interval_s: float = 1.0) -> None:
        self.interval_s = interval_s
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, tree_pss_bytes())

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = tree_pss_bytes()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_pss_bytes())

    @property
    def peak_mib(self) -> float:
        return self.peak / 2**20

    @property
    def added_mib(self) -> float:
        return (self.peak - self.start) / 2**20
