"""``aetheredge demo``'s showcases: the data plane and the model lifecycle, run end to end."""
