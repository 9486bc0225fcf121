"""``aetheredge``: the command line. Commands only; the logic they run lives in the core."""
