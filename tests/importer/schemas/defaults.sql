-- Objects holding less than the default privileges reaching them give: import writes
-- `role: []` or the smaller list, since the compiled project gives each object the defaults.
-- Per-schema and global defaults of the migrations' role, PUBLIC among the grantees, WITH
-- GRANT OPTION; a role's privileges revoked, a smaller list, a grant option taken back,
-- PUBLIC's privilege revoked, only column privileges left; tables, a view, sequences, a
-- function and schemas; objects created before the defaults (which hold none of them) and a
-- role's own defaults (FOR ROLE), which reach only what that role creates.
DO $$ BEGIN CREATE ROLE defaults_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE defaults_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE defaults_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE SCHEMA depot;
CREATE TABLE depot.before (id integer PRIMARY KEY);
CREATE SEQUENCE depot.before_numbers;

ALTER DEFAULT PRIVILEGES IN SCHEMA depot GRANT SELECT ON TABLES TO defaults_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA depot GRANT SELECT, UPDATE ON TABLES TO defaults_reader WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES IN SCHEMA depot GRANT REFERENCES ON TABLES TO PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE defaults_owner IN SCHEMA depot GRANT DELETE ON TABLES TO defaults_app;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO defaults_reader;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO defaults_reader;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO defaults_reader;

CREATE TABLE depot.open (id integer PRIMARY KEY);
CREATE TABLE depot.closed (id integer PRIMARY KEY);
REVOKE ALL ON depot.closed FROM defaults_reader, PUBLIC;
REVOKE SELECT ON depot.closed FROM defaults_app;
CREATE TABLE depot.narrow (id integer PRIMARY KEY);
REVOKE UPDATE ON depot.narrow FROM defaults_reader;
REVOKE GRANT OPTION FOR SELECT ON depot.narrow FROM defaults_reader;
GRANT INSERT ON depot.narrow TO defaults_app;
CREATE TABLE depot.by_column (id integer PRIMARY KEY, label text);
REVOKE SELECT ON depot.by_column FROM defaults_app;
GRANT SELECT (id), UPDATE (label) ON depot.by_column TO defaults_app;
CREATE VIEW depot.closed_view AS SELECT id FROM depot.closed;
REVOKE ALL ON depot.closed_view FROM defaults_reader;
CREATE SEQUENCE depot.counter;
REVOKE USAGE ON SEQUENCE depot.counter FROM defaults_reader;
CREATE SEQUENCE depot.tally;
CREATE FUNCTION depot.quiet() RETURNS integer LANGUAGE sql AS $$
SELECT 6
$$;
REVOKE EXECUTE ON FUNCTION depot.quiet() FROM defaults_reader;
CREATE FUNCTION depot.loud() RETURNS integer LANGUAGE sql AS $$
SELECT 7
$$;
CREATE SCHEMA annex;
REVOKE USAGE ON SCHEMA annex FROM defaults_reader;
CREATE TABLE annex.plain (id integer PRIMARY KEY);
CREATE SCHEMA wing;
CREATE TABLE wing.plain (id integer PRIMARY KEY);
