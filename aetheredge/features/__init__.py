"""The input contract (one source for every column), the encoding into model matrices,
and each entity's EWMA baselines.
"""
