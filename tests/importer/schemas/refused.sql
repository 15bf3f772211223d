-- What the YAML format cannot hold yet, a SQL-standard body: import refuses, writing nothing.
-- (Quoted and non-ASCII names are imported: see quoted.sql.)
CREATE SCHEMA app;
CREATE TABLE app.plain (id integer PRIMARY KEY);
CREATE FUNCTION app.answer() RETURNS integer LANGUAGE sql RETURN 42;
