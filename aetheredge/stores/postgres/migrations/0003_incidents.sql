-- Labelled incident windows: what operators (or an incident tracker) say went wrong,
-- where and when. Telemetry rows inside a window are the anomaly model's positives
-- when it trains and is judged on rows from the database.

CREATE TABLE incidents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_id  text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    kind       text,
    source     text        NOT NULL DEFAULT 'operator',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_entity_window ON incidents (entity_id, starts_at, ends_at);
