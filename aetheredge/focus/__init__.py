"""FOCUS cost-and-usage exports: the specification's columns and units, the charges
read and reconciled to the cent, and the cost model's training rows. Storing them,
restatements included, is ingest's (:mod:`aetheredge.ingest.focus`)."""

from aetheredge.focus.charges import Charges, read, read_export
from aetheredge.focus.days import FocusLoad, convert
from aetheredge.focus.reconcile import reconcile
from aetheredge.focus.spec import FocusError

__all__ = ["Charges", "FocusError", "FocusLoad", "convert", "read", "read_export", "reconcile"]
