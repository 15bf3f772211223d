-- Exact privileges: PUBLIC's EXECUTE revoked from a plain function and kept on a definer, a
-- definer closed to PUBLIC, a table and a schema open to PUBLIC, a role granted more on one
-- table than the schema-wide grant gives, privileges revoked after they were granted, a
-- sequence and a function granted to roles the server already has (a superuser among them,
-- written as an external role), a schema owned by a role of the project, default privileges,
-- an enum closed to PUBLIC, a domain granted to a role, a composite type closed to PUBLIC and
-- a range type and a table's SELECT granted WITH GRANT OPTION, and the public schema closed to PUBLIC;
-- column privileges (GRANT SELECT (col)), one WITH GRANT OPTION, one revoked after it was
-- granted, beside a table grant; default privileges WITH GRANT OPTION.
DO $$ BEGIN CREATE ROLE grants_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE grants_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE grants_admin SUPERUSER NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;

REVOKE USAGE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA vault AUTHORIZATION grants_owner;
GRANT USAGE ON SCHEMA vault TO grants_app, PUBLIC;
GRANT ALL ON SCHEMA vault TO grants_admin;

CREATE TABLE vault.notes (id integer PRIMARY KEY, body text NOT NULL);
CREATE TABLE vault.tags (id integer PRIMARY KEY, label text NOT NULL);
CREATE TABLE vault.secrets (id integer PRIMARY KEY, value text NOT NULL);
CREATE SEQUENCE vault.tickets;
GRANT SELECT, INSERT, UPDATE, DELETE ON vault.notes, vault.tags, vault.secrets TO grants_app;
REVOKE INSERT, UPDATE, DELETE ON vault.secrets FROM grants_app;
GRANT TRUNCATE ON vault.notes TO grants_app;
GRANT SELECT ON vault.tags TO PUBLIC;
GRANT USAGE ON SEQUENCE vault.tickets TO grants_app;
GRANT SELECT ON vault.secrets TO grants_admin;
GRANT SELECT ON vault.tags TO grants_app WITH GRANT OPTION;
-- (in public: vault's default privileges would give grants_app SELECT on the table)
CREATE TABLE public.people (id integer PRIMARY KEY, email text, "Phone" text, salary integer);
GRANT SELECT (id, email), UPDATE (email) ON public.people TO grants_app;
GRANT SELECT ("Phone"), REFERENCES (id) ON public.people TO grants_app WITH GRANT OPTION;
GRANT INSERT (salary) ON public.people TO grants_app;
REVOKE INSERT (salary) ON public.people FROM grants_app;
GRANT SELECT ON public.people TO grants_admin;
GRANT INSERT (email) ON public.people TO PUBLIC;

CREATE TYPE vault.level AS ENUM ('low', 'high');
REVOKE USAGE ON TYPE vault.level FROM PUBLIC;
GRANT USAGE ON TYPE vault.level TO grants_app;
CREATE DOMAIN vault.code AS text CHECK (VALUE <> '');
GRANT USAGE ON DOMAIN vault.code TO grants_app;
CREATE TYPE vault.pair AS (left_side integer, right_side text);
REVOKE USAGE ON TYPE vault.pair FROM PUBLIC;
GRANT USAGE ON TYPE vault.pair TO grants_app;
CREATE TYPE vault.span AS RANGE (subtype = integer);
GRANT USAGE ON TYPE vault.span TO grants_app WITH GRANT OPTION;
-- PostgreSQL 16 and older keep the multirange's ACL apart: it holds the range's, as schemac
-- gives it (17+ refuses GRANT on a multirange, whose privileges are the range's).
DO $$ BEGIN
IF current_setting('server_version_num')::integer < 170000 THEN
    GRANT USAGE ON TYPE vault.span_multirange TO grants_app WITH GRANT OPTION;
END IF;
END $$;

CREATE FUNCTION vault.plain() RETURNS integer LANGUAGE sql IMMUTABLE AS $$
SELECT 1
$$;
REVOKE EXECUTE ON FUNCTION vault.plain() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vault.plain() TO grants_app;
CREATE FUNCTION vault.open_definer() RETURNS integer LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
SELECT 2
$$;
CREATE FUNCTION vault.closed_definer() RETURNS integer LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
SELECT 3
$$;
REVOKE ALL ON FUNCTION vault.closed_definer() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vault.closed_definer() TO grants_admin;
CREATE FUNCTION vault.everyone() RETURNS integer LANGUAGE sql AS $$
SELECT 4
$$;

-- Default privileges: PUBLIC's EXECUTE on new functions revoked everywhere, new tables of
-- vault readable by grants_app, new sequences of grants_owner usable by grants_app.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA vault GRANT SELECT ON TABLES TO grants_app;
ALTER DEFAULT PRIVILEGES FOR ROLE grants_owner IN SCHEMA vault GRANT USAGE ON SEQUENCES TO grants_app;
ALTER DEFAULT PRIVILEGES FOR ROLE grants_owner IN SCHEMA vault GRANT INSERT ON TABLES TO grants_app WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE grants_owner GRANT EXECUTE ON FUNCTIONS TO grants_app WITH GRANT OPTION;
CREATE TABLE vault.later (id integer PRIMARY KEY);
CREATE FUNCTION vault.later_function() RETURNS integer LANGUAGE sql AS $$
SELECT 5
$$;
