"""Data in: telemetry bodies parsed and checked row by row, written to PostgreSQL and the
online baselines; FOCUS cost exports.
"""
