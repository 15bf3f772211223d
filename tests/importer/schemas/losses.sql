-- What the YAML format cannot declare yet: import must name each object and attribute.
DO $$ BEGIN CREATE ROLE loss_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA lossy;
CREATE TABLE lossy.items (
    id integer PRIMARY KEY,
    secret text,
    amount integer CONSTRAINT items_amount_check CHECK (amount > 0) NO INHERIT
) WITH (fillfactor = 80);
ALTER TABLE lossy.items REPLICA IDENTITY FULL;
GRANT SELECT (id) ON lossy.items TO loss_reader;
CREATE FUNCTION lossy.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
REVOKE EXECUTE ON FUNCTION lossy.noop() FROM PUBLIC;
CREATE TRIGGER quiet BEFORE INSERT ON lossy.items FOR EACH ROW EXECUTE FUNCTION lossy.noop();
ALTER TABLE lossy.items DISABLE TRIGGER quiet;
CREATE AGGREGATE lossy.total(integer) (SFUNC = int4pl, STYPE = integer);
CREATE PUBLICATION lossy_pub FOR TABLE lossy.items;
CREATE TABLE lossy.parts (id integer NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE lossy.parts_2026 PARTITION OF lossy.parts FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TRIGGER parts_quiet BEFORE INSERT ON lossy.parts_2026 FOR EACH ROW EXECUTE FUNCTION lossy.noop();
