"""FOCUS cost-and-usage exports: the specification's columns and units, the charges
stored and reconciled to the cent, restatements, and the cost model's training rows."""

from aetheredge.ingest.focus.charges import Charges, read, read_export
from aetheredge.ingest.focus.days import FocusLoad, convert
from aetheredge.ingest.focus.reconcile import reconcile
from aetheredge.ingest.focus.spec import FocusError
from aetheredge.ingest.focus.store import Stored, store

__all__ = [
    "Charges",
    "FocusError",
    "FocusLoad",
    "Stored",
    "convert",
    "read",
    "read_export",
    "reconcile",
    "store",
]
