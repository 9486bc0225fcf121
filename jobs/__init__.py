"""Entrypoints run as Ray jobs (``ray job submit -- python -m jobs.<name>``)."""
