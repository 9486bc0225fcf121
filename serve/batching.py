"""Dynamic batching: concurrent requests for one model merged into one engine call."""

from __future__ import annotations

import itertools

import numpy as np
from ray import serve

from aetheredge.serving.metrics import Meter
from aetheredge.serving.runtime import ModelRuntime, Scores


class BatchedScorer:
    """Scores encoded rows for one runtime, merging concurrent small requests.

    Requests with at least ``bypass_rows`` rows are already a batch and score at once;
    smaller ones queue for up to ``wait_s`` until ``max_size`` requests have arrived,
    then score as one block whose rows are handed back per request. Each instance
    wraps its own ``serve.batch`` queue, so two models never share a batch.
    """

    def __init__(
        self,
        runtime: ModelRuntime,
        max_size: int,
        wait_s: float,
        bypass_rows: int,
        meter: Meter | None = None,
    ) -> None:
        self.runtime = runtime
        self.meter = meter or Meter()
        self.bypass_rows = bypass_rows
        self._batched = serve.batch(max_batch_size=max_size, batch_wait_timeout_s=wait_s)(
            self._score_blocks
        )

    def configure(self, max_size: int, wait_s: float, bypass_rows: int) -> None:
        self._batched.set_max_batch_size(max_size)
        self._batched.set_batch_wait_timeout_s(wait_s)
        self.bypass_rows = bypass_rows

    async def _score_blocks(self, blocks: list[np.ndarray]) -> list[Scores]:
        scores = self._score(blocks[0] if len(blocks) == 1 else np.concatenate(blocks))
        bounds = np.cumsum([0, *(len(b) for b in blocks)]).tolist()
        return [scores.rows(a, b) for a, b in itertools.pairwise(bounds)]

    def _score(self, X: np.ndarray) -> Scores:
        self.meter.batch_rows(self.runtime.kind, len(X))
        return self.runtime.score(X)

    async def __call__(self, X: np.ndarray) -> Scores:
        if len(X) >= self.bypass_rows:
            return self._score(X)
        return await self._batched(X)
