-- Without TimescaleDB: one partition per UTC day, BRIN indexes on ts (tiny, and ideal
-- for rows that arrive roughly in time order), and the routines that create and drop
-- day partitions (`aetheredge db maintain`; ingest creates missing days on demand).

CREATE INDEX telemetry_ts_brin ON telemetry USING brin (ts);
CREATE INDEX predictions_ts_brin ON predictions USING brin (ts);

CREATE FUNCTION ensure_day_partitions(parent text, first_day date, last_day date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    day date;
    child text;
    made integer := 0;
BEGIN
    FOR day IN SELECT d::date FROM generate_series(first_day, last_day, interval '1 day') AS d
    LOOP
        child := parent || '_p' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('%I.%I', current_schema(), child)) IS NOT NULL;
        -- Replicas race to create the same day: serialise, then look again.
        PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.' || child));
        CONTINUE WHEN to_regclass(format('%I.%I', current_schema(), child)) IS NOT NULL;
        EXECUTE format(
            'CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
            current_schema(), child, current_schema(), parent,
            day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
        made := made + 1;
    END LOOP;
    RETURN made;
END $$;

CREATE FUNCTION drop_day_partitions(parent text, before_day date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    child record;
    dropped integer := 0;
BEGIN
    FOR child IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = format('%I.%I', current_schema(), parent)::regclass
          AND c.relname ~ ('^' || parent || '_p[0-9]{8}$')
          AND to_date(right(c.relname, 8), 'YYYYMMDD') < before_day
    LOOP
        EXECUTE format('DROP TABLE %I.%I', current_schema(), child.relname);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END $$;
