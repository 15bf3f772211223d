-- Names with dots in every place: schema "app.v2", table "orders.2026", column "total.net",
-- an enum type of the dotted schema used by a column, a check, an index, a policy, a trigger
-- and its function, a view, a sequence, and a foreign key from another schema. A name is
-- never split on its dots: each is one identifier.
CREATE SCHEMA "app.v2";
CREATE SCHEMA "billing.eu";
COMMENT ON SCHEMA "app.v2" IS 'Version 2.0 of the app.';

CREATE TYPE "app.v2"."state.kind" AS ENUM ('open', 'paid.in.full');

CREATE TABLE "app.v2"."orders.2026" (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "total.net" numeric(12, 2) NOT NULL DEFAULT 0,
    "state.now" "app.v2"."state.kind" NOT NULL DEFAULT 'open',
    "ref.no" integer,
    CONSTRAINT "total.net >= 0" CHECK ("total.net" >= 0)
);
COMMENT ON COLUMN "app.v2"."orders.2026"."total.net" IS 'Net total, in euros.';
CREATE INDEX "by.total.net" ON "app.v2"."orders.2026" ("total.net" DESC);
CREATE UNIQUE INDEX ON "app.v2"."orders.2026" ("ref.no");
CREATE SEQUENCE "app.v2"."ref.seq" OWNED BY "app.v2"."orders.2026"."ref.no";
ALTER TABLE "app.v2"."orders.2026" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "read.positive" ON "app.v2"."orders.2026" FOR SELECT USING ("total.net" >= 0);

CREATE FUNCTION "app.v2"."touch.it"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW."total.net" := abs(NEW."total.net");
    RETURN NEW;
END;
$$;
CREATE TRIGGER "touch.row" BEFORE UPDATE OF "total.net" ON "app.v2"."orders.2026"
    FOR EACH ROW EXECUTE FUNCTION "app.v2"."touch.it"();

CREATE VIEW "app.v2"."open.orders" AS
    SELECT id, "total.net" FROM "app.v2"."orders.2026" WHERE "state.now" = 'open';

CREATE TABLE "billing.eu"."invoice.lines" (
    id bigint PRIMARY KEY,
    "order.id" bigint NOT NULL REFERENCES "app.v2"."orders.2026" (id) ON DELETE CASCADE,
    "state.then" "app.v2"."state.kind"
);
CREATE INDEX "by.order.id" ON "billing.eu"."invoice.lines" ("order.id");

-- Functions named by other objects' fields: an aggregate's state function and a range's
-- subtype difference, both in the dotted schema.
CREATE FUNCTION "app.v2"."add.pos"(s integer, v integer) RETURNS integer LANGUAGE sql IMMUTABLE
    AS $$SELECT s + greatest(v, 0)$$;
CREATE AGGREGATE "app.v2"."sum.pos"(integer) (SFUNC = "app.v2"."add.pos", STYPE = integer,
    INITCOND = '0');
CREATE FUNCTION "app.v2"."diff.it"(a float8, b float8) RETURNS float8 LANGUAGE sql IMMUTABLE
    AS $$SELECT a - b$$;
CREATE TYPE "app.v2"."float.range" AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = "app.v2"."diff.it");
