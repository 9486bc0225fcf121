"""FOCUS cost-and-usage exports: the specification's columns and units, and the cost
model's training rows built from them."""

from aetheredge.ingest.focus.days import FocusLoad, convert, read_export, store
from aetheredge.ingest.focus.spec import FocusError

__all__ = ["FocusError", "FocusLoad", "convert", "read_export", "store"]
