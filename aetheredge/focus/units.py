"""FOCUS units (the UnitFormat attribute) parsed into what they measure.

The specification's three forms, each with an optional whole-number quantity in front:
``<plural-units>`` ("GB", "Hours", "1000 Requests"), ``<singular-unit>-<plural-time-units>``
("GB-Hours", "vCPU-Hours"), and ``<plural-units>/<singular-time-unit>`` ("GB/Hour",
"Units/3 Months"). Data sizes are kept apart by their prefix: "GB" is 10⁹ bytes, "GiB"
2³⁰, and lower-case "b" is a bit. Any other capitalised noun is a count ("Requests",
"Tokens", "vCPU"). Providers stray from the attribute in small ways, and these are read
too: a space before the time ("OCPU Hours"), "Mo" and "Hrs", and "1K"/"1M" quantities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

_DECIMAL = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60}
BYTES: dict[str, float] = {
    **{f"{p}B": f for p, f in (_DECIMAL | _BINARY).items()},
    **{f"{p}b": f / 8 for p, f in (_DECIMAL | _BINARY).items()},
}
_LOWER_BYTES = {k.lower(): f for k, f in BYTES.items() if k.endswith("B")}
HOURS: dict[str, float] = {
    "second": 1 / 3600,
    "minute": 1 / 60,
    "hour": 1.0,
    "hr": 1.0,
    "day": 24.0,
    "week": 168.0,
    "month": 730.0,  # 8,760 hours / 12: the month cloud price lists use
    "mo": 730.0,
    "year": 8760.0,
}
_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)([KM]?)\s+(\S.*)")
_SI = {"": 1.0, "K": 1e3, "M": 1e6}


@dataclass(frozen=True)
class Unit:
    """``scale`` of a ``measure`` ("bytes", "hours", or a counted noun in lower-case
    singular: "request", "vcpu"), times ``hours`` when the unit is a product with time
    ("GB-Hours": 10⁹ bytes for 1 hour), per ``per_hours`` when it is a rate."""

    measure: str
    scale: float = 1.0
    hours: float = 0.0
    per_hours: float = 0.0


def _time(word: str) -> float:
    """Hours in one ``word`` of time ("Hours", "Month", "Mo"), 0 when it is none."""
    singular = word.strip().lower()
    singular = singular[:-1] if singular.endswith("s") and singular[:-1] in HOURS else singular
    return HOURS.get(singular, 0.0)


def _single(word: str) -> Unit | None:
    word = word.strip()
    if not word:
        return None
    if word in BYTES:
        return Unit("bytes", BYTES[word])
    if word in _LOWER_BYTES:
        return Unit("bytes", _LOWER_BYTES[word])  # "gb", "gib": read as bytes, not bits
    if hours := _time(word):
        return Unit("hours", hours)
    noun = word.lower()
    return Unit(noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun)


@lru_cache(maxsize=4096)
def parse(text: str) -> Unit | None:
    """What ``text``, a FOCUS unit, measures; None for an empty one."""
    text = text.strip()
    scale = 1.0
    if match := _QUANTITY.fullmatch(text):
        scale, text = float(match[1]) * _SI[match[2]], match[3]
    if "/" in text:
        left, right = text.split("/", 1)
        interval = _QUANTITY.fullmatch(right.strip())
        per = _time(interval[3]) * float(interval[1]) if interval else _time(right)
        base = _single(left)
        return replace(base, scale=base.scale * scale, per_hours=per) if base and per else None
    for separator in ("-", " "):
        left, _, right = text.rpartition(separator)
        if left and (hours := _time(right)) and (base := _single(left)):
            return replace(base, scale=base.scale * scale, hours=hours)
    base = _single(text)
    return replace(base, scale=base.scale * scale) if base else None
