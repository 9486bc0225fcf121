-- The cost model's rows in FOCUS's terms (issue 20): a resource's usage over one UTC
-- day with its SKU's size, its largest charge's provider, region, service and pricing
-- categories, commitment status and charge frequency, and both labels, the amortised
-- EffectiveCost and the BilledCost (null where the bill gives none in USD).
--
-- Rows of the schema before are kept, read as FOCUS says them: every one was an AWS
-- compute resource-day in USD, bought on demand (Standard), as spot (Dynamic) or
-- reserved (Committed, the commitment Used), and its billed cost is both labels (the
-- amortised cost was never known: the bill said only what was billed).

ALTER TABLE cost_usage
    ADD COLUMN cores              double precision NOT NULL DEFAULT 0,
    ADD COLUMN memory_gib         double precision NOT NULL DEFAULT 0,
    ADD COLUMN gpus               double precision NOT NULL DEFAULT 0,
    ADD COLUMN provider           text,
    ADD COLUMN service_category   text NOT NULL DEFAULT 'Compute',
    ADD COLUMN service_subcategory text,
    ADD COLUMN pricing_category   text,
    ADD COLUMN commitment_status  text,
    ADD COLUMN charge_frequency   text NOT NULL DEFAULT 'Usage-Based',
    ADD COLUMN effective_cost     double precision,
    ADD COLUMN billed_cost        double precision;

UPDATE cost_usage SET
    provider          = 'AWS',
    pricing_category  = CASE pricing_model
                            WHEN 'spot' THEN 'Dynamic'
                            WHEN 'reserved' THEN 'Committed'
                            ELSE 'Standard' END,
    commitment_status = CASE WHEN pricing_model = 'reserved' THEN 'Used' END,
    effective_cost    = cost_usd,
    billed_cost       = cost_usd;

ALTER TABLE cost_usage
    ALTER COLUMN pricing_category SET NOT NULL,
    ALTER COLUMN effective_cost SET NOT NULL,
    ALTER COLUMN region DROP NOT NULL,
    DROP COLUMN pricing_model,
    DROP COLUMN instance_family,
    DROP COLUMN cost_usd;
