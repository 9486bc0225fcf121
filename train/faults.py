"""Fault injection for retraining, for tests only: off unless an environment variable says.

``AETHER_TRAIN_FAULT=<action>@<rank>:<round>`` makes the Ray Train worker of ``rank``
fail as it starts growing round ``round`` (rounds before it are checkpointed), in the
first attempt only, so a restarted worker group runs clean:

- ``kill``: the worker process dies at once (SIGKILL), as on an OOM kill or a lost node;
- ``stall``: the worker sleeps for an hour, so a test can kill the whole job mid-fit.

Ray jobs pass the variable to every worker through their runtime environment.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from dataclasses import dataclass
from typing import Literal

ENV = "AETHER_TRAIN_FAULT"
_SPEC = re.compile(r"^(kill|stall)@(\d+):(\d+)$")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fault:
    """One planned failure of one worker."""

    action: Literal["kill", "stall"]
    rank: int
    round: int

    def due(self, rank: int, round_: int) -> bool:
        return (rank, round_) == (self.rank, self.round)

    def fire(self) -> None:
        log.warning("%s: %s worker %d at round %d", ENV, self.action, self.rank, self.round)
        if self.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(3600)


def planned() -> Fault | None:
    """The fault ``AETHER_TRAIN_FAULT`` asks for, if any; a malformed value is an error."""
    spec = os.environ.get(ENV, "").strip()
    if not spec:
        return None
    match = _SPEC.match(spec)
    if match is None:
        raise ValueError(f"{ENV}={spec!r}: expected '<kill|stall>@<rank>:<round>'")
    action, rank, round_ = match.groups()
    return Fault(action, int(rank), int(round_))  # type: ignore[arg-type]
