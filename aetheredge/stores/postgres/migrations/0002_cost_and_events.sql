-- Cost and usage (the cost model's training data) and the model lifecycle's audit trail.

CREATE TABLE cost_usage (
    period_start      timestamptz NOT NULL,
    workload_id       text        NOT NULL CHECK (length(workload_id) BETWEEN 1 AND 512),
    vcpu_hours        double precision NOT NULL,
    memory_gib_hours  double precision NOT NULL,
    storage_gib_month double precision NOT NULL,
    egress_gib        double precision NOT NULL,
    gpu_hours         double precision NOT NULL,
    requests          double precision NOT NULL,
    region            text        NOT NULL,
    pricing_model     text        NOT NULL,
    instance_family   text        NOT NULL,
    cost_usd          double precision NOT NULL,
    source            text        NOT NULL DEFAULT 'api',
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workload_id, period_start)
);
CREATE INDEX cost_usage_period_brin ON cost_usage USING brin (period_start);

CREATE TABLE model_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts               timestamptz NOT NULL DEFAULT now(),
    model            text        NOT NULL,
    event            text        NOT NULL
        CHECK (event IN ('promotion', 'rejection', 'rollback', 'drift_alarm', 'retrain')),
    version          text,
    previous_version text,
    details          jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX model_events_model_ts ON model_events (model, ts DESC);
