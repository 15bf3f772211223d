-- Pairs of objects whose names, joined by dots, are the same text: "a.b".c and a."b.c" are
-- both a.b.c, trigger "c.x" on a.b and trigger x on a."b.c" both x on a.b.c (and "c.x" on
-- a.b). Each is its own object, of every kind: tables, views, materialized views, functions,
-- an aggregate, sequences, enums, domains, composite and range types, indexes, triggers,
-- policies, foreign keys, partitions, a publication. Policy "p on a" on b.t and policy p on "a on b".t
-- collide once " on " joins them too.
CREATE SCHEMA a;
CREATE SCHEMA "a.b";
CREATE SCHEMA b;
CREATE SCHEMA "a on b";

CREATE FUNCTION a.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEW;
END;
$$;
CREATE FUNCTION "a.b".touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEW;
END;
$$;

CREATE TABLE a.b (id bigint PRIMARY KEY);
CREATE TABLE a."b.c" (id bigint PRIMARY KEY, b_id bigint, total integer);
CREATE TABLE "a.b".c (id bigint PRIMARY KEY, b_id bigint, total integer);
CREATE INDEX "b.by_total" ON a."b.c" (total);
CREATE INDEX by_total ON "a.b".c (total);
ALTER TABLE a."b.c" ADD CONSTRAINT k FOREIGN KEY (b_id) REFERENCES a.b (id);
ALTER TABLE "a.b".c ADD CONSTRAINT k FOREIGN KEY (b_id) REFERENCES a.b (id) ON DELETE CASCADE;
CREATE TRIGGER x BEFORE UPDATE ON a."b.c" FOR EACH ROW EXECUTE FUNCTION a.touch();
CREATE TRIGGER x BEFORE INSERT ON "a.b".c FOR EACH ROW EXECUTE FUNCTION "a.b".touch();
CREATE TRIGGER "c.x" BEFORE DELETE ON a.b FOR EACH ROW EXECUTE FUNCTION a.touch();
ALTER TABLE a."b.c" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "a.b".c ENABLE ROW LEVEL SECURITY;
CREATE POLICY p ON a."b.c" FOR SELECT USING (total > 0);
CREATE POLICY p ON "a.b".c FOR SELECT USING (total > 1);

CREATE TABLE b.t (id bigint PRIMARY KEY);
CREATE TABLE "a on b".t (id bigint PRIMARY KEY);
ALTER TABLE b.t ENABLE ROW LEVEL SECURITY;
ALTER TABLE "a on b".t ENABLE ROW LEVEL SECURITY;
CREATE POLICY "p on a" ON b.t FOR SELECT USING (id > 0);
CREATE POLICY p ON "a on b".t FOR SELECT USING (id > 1);

CREATE VIEW a."b.v" AS SELECT id FROM a."b.c";
CREATE VIEW "a.b".v AS SELECT id, total FROM "a.b".c;
CREATE MATERIALIZED VIEW a."b.m" AS SELECT id FROM a."b.c";
CREATE MATERIALIZED VIEW "a.b".m AS SELECT total FROM "a.b".c;

CREATE FUNCTION a."b.f"() RETURNS integer LANGUAGE sql IMMUTABLE AS $$SELECT 1$$;
CREATE FUNCTION "a.b".f() RETURNS integer LANGUAGE sql STABLE AS $$SELECT 2$$;
CREATE FUNCTION a.add_pos(s integer, v integer) RETURNS integer LANGUAGE sql IMMUTABLE
    AS $$SELECT s + greatest(v, 0)$$;
CREATE AGGREGATE a."b.sum"(integer) (SFUNC = a.add_pos, STYPE = integer, INITCOND = '0');
CREATE AGGREGATE "a.b".sum(integer) (SFUNC = a.add_pos, STYPE = integer, INITCOND = '1');

CREATE SEQUENCE a."b.s" START 10;
CREATE SEQUENCE "a.b".s START 20;
CREATE TYPE a."b.e" AS ENUM ('one');
CREATE TYPE "a.b".e AS ENUM ('two');
CREATE DOMAIN a."b.d" AS integer CHECK (VALUE > 0);
CREATE DOMAIN "a.b".d AS integer CHECK (VALUE > 1);
CREATE TYPE a."b.ct" AS (x integer);
CREATE TYPE "a.b".ct AS (y integer);
CREATE TYPE a."b.span" AS RANGE (SUBTYPE = integer);
CREATE TYPE "a.b".span AS RANGE (SUBTYPE = bigint);

CREATE TABLE a."b.pt" (id bigint, at date) PARTITION BY RANGE (at);
CREATE TABLE "a.b".pt (id bigint, at date) PARTITION BY RANGE (at);
CREATE TABLE a."b.p2026" PARTITION OF a."b.pt" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE "a.b".p2026 PARTITION OF "a.b".pt FOR VALUES FROM ('2025-01-01') TO ('2027-01-01');

-- A publication names both tables of a pair (the importer writes each as SQL's quoted name).
CREATE PUBLICATION both_tables FOR TABLE a."b.c", "a.b".c;
