-- With TimescaleDB: hypertables with one-day chunks; TimescaleDB creates chunks as rows
-- arrive and indexes ts itself. Retention is drop_chunks (`aetheredge db maintain`).

SELECT create_hypertable('telemetry', by_range('ts', INTERVAL '1 day'));
SELECT create_hypertable('predictions', by_range('ts', INTERVAL '1 day'));
