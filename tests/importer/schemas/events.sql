-- Partitioned tables, routines of every shape, triggers, views and a materialized view.
DO $$ BEGIN CREATE ROLE events_writer NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE events_admin NOLOGIN BYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE SCHEMA events;

CREATE TYPE events.severity AS ENUM ('debug', 'info', 'warning', 'error');

CREATE TABLE events.log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL,
    severity events.severity NOT NULL DEFAULT 'info',
    source text NOT NULL,
    message text,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE events.log IS 'Everything that happened, by month.';
CREATE TABLE events.log_2026_01 PARTITION OF events.log FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events.log_2026_02 PARTITION OF events.log FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE events.log_old PARTITION OF events.log FOR VALUES FROM (MINVALUE) TO ('2026-01-01');
CREATE TABLE events.log_rest PARTITION OF events.log DEFAULT;
COMMENT ON TABLE events.log_rest IS 'Whatever no month holds.';
CREATE INDEX log_source_idx ON events.log (source, occurred_at DESC);

CREATE TABLE events.by_region (
    region text NOT NULL,
    code integer NOT NULL,
    payload jsonb
) PARTITION BY LIST (region);
CREATE TABLE events.by_region_eu PARTITION OF events.by_region FOR VALUES IN ('eu', 'ch');
CREATE TABLE events.by_region_us PARTITION OF events.by_region FOR VALUES IN ('us');
CREATE TABLE events.by_region_none PARTITION OF events.by_region FOR VALUES IN (NULL);

CREATE TABLE events.buckets (
    id bigint NOT NULL,
    label text
) PARTITION BY HASH (id);
CREATE TABLE events.buckets_0 PARTITION OF events.buckets FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE events.buckets_1 PARTITION OF events.buckets FOR VALUES WITH (MODULUS 2, REMAINDER 1);

CREATE TABLE events.counters (
    source text PRIMARY KEY,
    seen bigint NOT NULL DEFAULT 0,
    last_message text,
    updated_at timestamptz
);

CREATE FUNCTION events.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION events.touch() IS 'Sets updated_at.';

CREATE FUNCTION events.count_event() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    label text := TG_ARGV[0];
BEGIN
    INSERT INTO events.counters AS c (source, seen, last_message)
    VALUES (NEW.source, 1, label || ': ' || coalesce(NEW.message, ''))
    ON CONFLICT (source) DO UPDATE
        SET seen = c.seen + 1,
            last_message = EXCLUDED.last_message;
    -- one row per source, counted
    RETURN NULL;
END
$$;
GRANT EXECUTE ON FUNCTION events.count_event() TO events_writer;

CREATE FUNCTION events.batch_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*) FROM inserted;
    RETURN NULL;
END
$$;

CREATE FUNCTION events.severity_rank(s events.severity) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 5 AS $$
SELECT array_position(enum_range(NULL::events.severity), s)
$$;

CREATE FUNCTION events.recent(p_source text, p_limit integer DEFAULT 10, VARIADIC p_levels events.severity[] DEFAULT '{}')
    RETURNS SETOF events.log LANGUAGE sql STABLE ROWS 50 AS $$
SELECT * FROM events.log
WHERE source = p_source AND (cardinality(p_levels) = 0 OR severity = ANY (p_levels))
ORDER BY occurred_at DESC LIMIT p_limit
$$;

CREATE FUNCTION events.summary(IN p_since timestamptz, OUT total bigint, OUT worst events.severity)
    LANGUAGE sql STABLE AS $$
SELECT count(*), max(severity) FROM events.log WHERE occurred_at >= p_since
$$;

CREATE FUNCTION events.per_source() RETURNS TABLE(source text, seen bigint)
    LANGUAGE sql STABLE LEAKPROOF AS $$
SELECT source, seen FROM events.counters
$$;

CREATE PROCEDURE events.purge(p_before timestamptz) LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events.log WHERE occurred_at < p_before;
END
$$;
COMMENT ON PROCEDURE events.purge(timestamptz) IS 'Deletes old events.';

CREATE TRIGGER touch BEFORE UPDATE OF seen, last_message ON events.counters
    FOR EACH ROW WHEN (OLD.seen IS DISTINCT FROM NEW.seen) EXECUTE FUNCTION events.touch();
CREATE TRIGGER count_it AFTER INSERT ON events.log
    FOR EACH ROW EXECUTE FUNCTION events.count_event('log', 'it''s');
COMMENT ON TRIGGER count_it ON events.log IS 'Keeps the counters.';
CREATE TRIGGER batch AFTER INSERT ON events.counters REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events.batch_seen();

CREATE VIEW events.errors WITH (security_barrier = true) AS
    SELECT id, occurred_at, source, message FROM events.log WHERE severity = 'error';
COMMENT ON VIEW events.errors IS 'Only errors.';
COMMENT ON COLUMN events.errors.message IS 'What went wrong.';
CREATE VIEW events.busy_sources WITH (security_invoker = true) AS
    SELECT source, seen FROM events.counters WHERE seen > 100
    WITH LOCAL CHECK OPTION;
GRANT SELECT ON events.errors TO events_writer;

CREATE MATERIALIZED VIEW events.daily AS
    SELECT date_trunc('day', occurred_at) AS day, severity, count(*) AS n
    FROM events.log GROUP BY 1, 2
    WITH NO DATA;
CREATE UNIQUE INDEX daily_day_severity_idx ON events.daily (day, severity);
COMMENT ON MATERIALIZED VIEW events.daily IS 'Counts per day.';

GRANT USAGE ON SCHEMA events TO events_writer;
GRANT INSERT ON events.log TO events_writer;
