"""Where state lives: PostgreSQL (connections, migrations, partitions, writers), Redis
(online baselines, spill stream) and the local spill file.
"""
