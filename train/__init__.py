"""Parallel retraining of AetherEdge models on Ray Train."""
