-- Replication and analytics: publications (a table list with a column list and a row filter,
-- FOR TABLES IN SCHEMA, FOR ALL TABLES with publish options), replica identities of every
-- form, aggregates (built-in and own state functions, final and combine functions, an initial
-- state, PARALLEL, a grant, a comment) and range types (subtype_diff, collation, operator
-- class, multirange name) used by columns, across two schemas.
DO $$ BEGIN CREATE ROLE repl_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA sales;
CREATE SCHEMA analytics;
CREATE FUNCTION analytics.hours_between(a time, b time) RETURNS double precision
    LANGUAGE sql IMMUTABLE AS $$
SELECT EXTRACT(EPOCH FROM (a - b)) / 3600
$$;
CREATE TYPE analytics.shift_range AS RANGE (SUBTYPE = time, SUBTYPE_DIFF = analytics.hours_between);
COMMENT ON TYPE analytics.shift_range IS 'Opening hours.';
CREATE TYPE analytics.label_range AS RANGE (
    SUBTYPE = text, SUBTYPE_OPCLASS = text_pattern_ops, COLLATION = "C",
    MULTIRANGE_TYPE_NAME = analytics.label_ranges);
CREATE TYPE analytics.amount_range AS RANGE (SUBTYPE = numeric, SUBTYPE_DIFF = numrange_subdiff);
CREATE TABLE sales.orders (
    id bigint PRIMARY KEY,
    status text NOT NULL,
    amount numeric(10,2) NOT NULL,
    note text
);
ALTER TABLE sales.orders REPLICA IDENTITY FULL;
CREATE TABLE sales.customers (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    CONSTRAINT customers_email_key UNIQUE (email)
);
ALTER TABLE sales.customers REPLICA IDENTITY USING INDEX customers_email_key;
CREATE TABLE sales.events (id bigint PRIMARY KEY, payload text, spent analytics.amount_multirange);
ALTER TABLE sales.events REPLICA IDENTITY NOTHING;
CREATE TABLE analytics.shifts (
    id bigint PRIMARY KEY,
    open analytics.shift_range NOT NULL,
    labels analytics.label_ranges,
    open_days analytics.shift_multirange,
    budget analytics.amount_range
);
CREATE FUNCTION analytics.sum_pair(state numeric[], v numeric) RETURNS numeric[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY[state[1] + v, state[2] + 1]
$$;
CREATE FUNCTION analytics.merge_pairs(a numeric[], b numeric[]) RETURNS numeric[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY[a[1] + b[1], a[2] + b[2]]
$$;
CREATE FUNCTION analytics.pair_mean(state numeric[]) RETURNS numeric
    LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN state[2] = 0 THEN NULL ELSE state[1] / state[2] END
$$;
CREATE AGGREGATE analytics.mean(numeric) (
    SFUNC = analytics.sum_pair, STYPE = numeric[], FINALFUNC = analytics.pair_mean,
    COMBINEFUNC = analytics.merge_pairs, INITCOND = '{0,0}', PARALLEL = SAFE);
COMMENT ON AGGREGATE analytics.mean(numeric) IS 'The arithmetic mean.';
GRANT EXECUTE ON FUNCTION analytics.mean(numeric) TO repl_reader;
CREATE AGGREGATE analytics.total(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0');
CREATE PUBLICATION orders_feed FOR TABLE sales.orders (id, status, amount) WHERE (status <> 'draft'),
    TABLE sales.customers WITH (publish = 'insert, update');
COMMENT ON PUBLICATION orders_feed IS 'What the warehouse reads.';
CREATE PUBLICATION analytics_feed FOR TABLES IN SCHEMA analytics;
CREATE PUBLICATION everything FOR ALL TABLES WITH (publish_via_partition_root = true);
