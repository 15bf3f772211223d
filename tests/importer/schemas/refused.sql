-- Names the YAML format cannot hold, and a SQL-standard body: import refuses, writing nothing.
CREATE SCHEMA app;
CREATE TABLE app."Mixed Case" (id integer PRIMARY KEY);
CREATE TABLE app.café (id integer PRIMARY KEY);
CREATE TABLE app.plain (id integer PRIMARY KEY, "Weird Column" text);
CREATE POLICY "Allow logged-in read access" ON app.plain FOR SELECT USING (true);
CREATE FUNCTION app.answer() RETURNS integer LANGUAGE sql RETURN 42;
