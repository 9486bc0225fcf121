-- FOCUS charge lines as the exports give them, one row a charge, in any currency and
-- region: what reconciliation counts and restatements replace. A re-ingested export
-- replaces every charge stored for each provider, billing account and billing period it
-- holds, as providers restate month-to-date exports until the month closes. The cost
-- model's workload-days built from a billing period carry its scope, so they are
-- replaced with it.

CREATE TABLE focus_charges (
    provider                   text        NOT NULL,
    billing_account_id         text        NOT NULL,
    billing_period_start       timestamptz NOT NULL,
    billing_period_end         timestamptz NOT NULL,
    charge_period_start        timestamptz NOT NULL,
    charge_period_end          timestamptz NOT NULL,
    charge_category            text        NOT NULL
        CHECK (charge_category IN ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')),
    charge_class               text        CHECK (charge_class = 'Correction'),
    billed_cost                numeric     NOT NULL,
    effective_cost             numeric     NOT NULL,
    list_cost                  numeric,
    contracted_cost            numeric,
    billing_currency           text        NOT NULL,
    service_category           text        NOT NULL,
    service_name               text        NOT NULL,
    sub_account_id             text,
    resource_id                text,
    region_id                  text,
    sku_id                     text,
    sku_price_id               text,
    pricing_category           text,
    pricing_quantity           numeric,
    pricing_unit               text,
    consumed_quantity          numeric,
    consumed_unit              text,
    commitment_discount_id     text,
    commitment_discount_status text,
    tags                       jsonb,
    sku_price_details          jsonb,
    focus_version              text        NOT NULL,
    ingested_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX focus_charges_scope
    ON focus_charges (provider, billing_account_id, billing_period_start);

ALTER TABLE cost_usage ADD COLUMN billing_scope text;
CREATE INDEX cost_usage_billing_scope ON cost_usage (billing_scope)
    WHERE billing_scope IS NOT NULL;
