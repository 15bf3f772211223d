-- A Supabase-like app whose names need quotes: a schema with a space, mixed-case tables and
-- columns, non-ASCII names, quoted policy and trigger names, a name that looks like SQL, and
-- function bodies whose whitespace must survive byte for byte.
CREATE SCHEMA "My App";
CREATE SCHEMA app;
COMMENT ON SCHEMA "My App" IS 'The "quoted" part of the app.';

CREATE TYPE "My App"."Mood ""Type""" AS ENUM ('happy', 'it''s "fine"', 'Ünïcode');

CREATE TABLE "My App"."UserProfiles" (
    "Id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "Prénom" text NOT NULL,
    "e-mail" text UNIQUE,
    "x""; DROP TABLE t; --" text,
    mood "My App"."Mood ""Type""",
    "Ticket" integer,
    CONSTRAINT "Prénom not blank" CHECK (btrim("Prénom") <> '')
);
COMMENT ON COLUMN "My App"."UserProfiles"."Prénom" IS 'Given name.';
CREATE INDEX "By Prénom" ON "My App"."UserProfiles" ("Prénom" DESC);
CREATE INDEX ON "My App"."UserProfiles" (lower("e-mail"));
CREATE SEQUENCE "My App"."Ticket No" OWNED BY "My App"."UserProfiles"."Ticket";
ALTER TABLE "My App"."UserProfiles" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Allow logged-in read access" ON "My App"."UserProfiles"
    FOR SELECT USING ("Id" > 0);
CREATE POLICY "Owners update their ""own"" rows" ON "My App"."UserProfiles"
    FOR UPDATE USING ("e-mail" = current_user) WITH CHECK ("e-mail" = current_user);

-- The body ends in two spaces and no line break.
CREATE FUNCTION "My App"."Touch It"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW."Prénom" := btrim(NEW."Prénom");
    RETURN NEW;
END;  $$;
-- The body starts on the line of AS and has trailing blank lines.
CREATE FUNCTION "My App"."Größe"(p "My App"."Mood ""Type""") RETURNS integer LANGUAGE sql
    IMMUTABLE AS $$SELECT length(p::text)


$$;
CREATE FUNCTION "My App"."Long Body / Path"() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer := 0;
BEGIN
    n := n + 1;
    n := n + 2;
    n := n + 3;
    n := n + 4;
    n := n + 5;
    n := n + 6;
    n := n + 7;
    n := n + 8;
    n := n + 9;
    n := n + 10;
    n := n + 11;
    n := n + 12;
    n := n + 13;
    n := n + 14;
    n := n + 15;
    n := n + 16;
    n := n + 17;
    n := n + 18;
    n := n + 19;
    n := n + 20;
    RETURN n;
END;
$$;

CREATE TRIGGER "Touch Row" BEFORE UPDATE OF "Prénom" ON "My App"."UserProfiles"
    FOR EACH ROW EXECUTE FUNCTION "My App"."Touch It"();

CREATE VIEW "My App"."Active Users" AS
    SELECT "Id", "Prénom" FROM "My App"."UserProfiles" WHERE "Id" > 0;

CREATE TABLE app.notes (
    id bigint PRIMARY KEY,
    profile_id bigint NOT NULL REFERENCES "My App"."UserProfiles" ("Id"),
    author text REFERENCES "My App"."UserProfiles" ("e-mail") ON DELETE SET NULL,
    "Größe" integer DEFAULT "My App"."Größe"('happy')
);
