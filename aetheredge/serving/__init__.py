"""Scoring as plain Python: the model runtimes and their hot swap, the ``/v1`` and V2
scoring logic, the prediction log and the service's Prometheus metrics.
"""
