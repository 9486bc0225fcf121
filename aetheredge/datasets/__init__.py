"""Training and evaluation data: synthetic fleets and bills, PostgreSQL windows, Parquet
files, the hold-out split.
"""
