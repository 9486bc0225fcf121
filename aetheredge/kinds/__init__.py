"""The model kinds the platform serves and trains, found by module.

Each module of this package other than :mod:`~aetheredge.kinds.base` defines one
:class:`Kind` as ``KIND``: :mod:`~aetheredge.kinds.anomaly` and
:mod:`~aetheredge.kinds.cost` today. Adding a kind is adding a module here (or on this
package's ``__path__``); nothing else names one. The kinds are found on first use, so
a plugin directory appended to ``__path__`` before then is searched too.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from aetheredge.kinds.base import Kind, Output, Storage

ModelKind = str  # the name of a registered kind
_NOT_KINDS = frozenset({"base"})


class UnknownKindError(ValueError):
    """A name that is no registered kind."""


@cache
def _registry() -> dict[str, Kind]:
    found: dict[str, Kind] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name in _NOT_KINDS:
            continue
        kind = importlib.import_module(f"{__name__}.{module.name}").KIND
        if kind.name in found:
            raise RuntimeError(f"model kind {kind.name!r} is defined twice")
        found[kind.name] = kind
    return found


def names() -> tuple[ModelKind, ...]:
    """Every kind's name, in module order."""
    return tuple(_registry())


def get(name: str) -> Kind:
    """The kind called ``name``; :class:`UnknownKindError` names the known ones."""
    try:
        return _registry()[name]
    except KeyError:
        raise UnknownKindError(f"unknown model kind {name!r}; kinds are {list(names())}") from None


__all__ = ["Kind", "ModelKind", "Output", "Storage", "UnknownKindError", "get", "names"]
