"""A Supabase-like platform written for these tests: an `auth` schema the project does not
manage, its roles, and an app schema that references them."""

from __future__ import annotations

from pathlib import Path

import psycopg

# What the platform really holds: richer than the declarations (more columns, another table,
# a real auth.uid()), so a comparison that looked at it would find differences.
PLATFORM_SQL = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN;
  END IF;
END $$;
CREATE SCHEMA auth;
CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
CREATE TABLE auth.users (
    instance_id uuid,
    id uuid NOT NULL PRIMARY KEY,
    email varchar(255),
    raw_user_meta_data jsonb,
    created_at timestamptz DEFAULT now()
);
CREATE TABLE auth.sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    aal auth.aal_level
);
CREATE INDEX users_email_idx ON auth.users (email);
CREATE FUNCTION auth.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.created_at := coalesce(NEW.created_at, now()); RETURN NEW; END $$;
-- the platform's own trigger on the table the project also has a trigger on
CREATE TRIGGER platform_touch BEFORE UPDATE ON auth.users FOR EACH ROW EXECUTE FUNCTION auth.touch();
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;
COMMENT ON FUNCTION auth.uid() IS 'Deprecated in favour of auth.jwt().';
GRANT USAGE ON SCHEMA auth TO anon, authenticated;
"""

EXTERNAL_YAML = """\
external:
  roles: [anon, authenticated]
  schemas:
    auth:
      tables:
        users:
          columns:
            id: {type: uuid, primary_key: true}
            email: varchar(255)
            raw_user_meta_data: jsonb
          triggers:
            on_auth_user_created:
              timing: after
              events: [insert]
              for_each: row
              function: app.handle_new_user
      functions:
        uid: {returns: uuid, volatility: stable}
      types:
        aal_level: {enum: [aal1, aal2, aal3]}
"""

APP_YAML = """\
schema: app
grants: {authenticated: [usage], anon: [usage]}
tables:
  profiles:
    columns:
      id: {type: uuid, primary_key: true, references: {table: auth.users, on_delete: cascade}}
      display_name: {type: text}
      assurance: {type: auth.aal_level}
    row_level_security: {enable: true}
    policies:
      own_profile:
        command: select
        roles: [authenticated]
        using: "id = auth.uid()"
      own_update:
        command: update
        roles: [authenticated]
        using: "id = auth.uid()"
        with_check: "id = auth.uid()"
    grants: {authenticated: [select, update], anon: [select]}
functions:
  handle_new_user:
    language: plpgsql
    returns: trigger
    security: definer
    set: {search_path: pg_catalog}
    body: |
      BEGIN
        INSERT INTO app.profiles (id, display_name)
        VALUES (NEW.id, NEW.raw_user_meta_data ->> 'name');
        RETURN NEW;
      END
"""


def write_project(root: Path) -> None:
    (root / "schema").mkdir(parents=True)
    (root / "schemac.yaml").write_text("version_width: 3\n", encoding="utf-8")
    (root / "schema" / "00_platform.yaml").write_text(EXTERNAL_YAML, encoding="utf-8")
    (root / "schema" / "01_app.yaml").write_text(APP_YAML, encoding="utf-8")


def install_platform(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(PLATFORM_SQL)


def deployed_project(root: Path, dev_url: str, database: str) -> Path:
    """The app project written at ``root`` and compiled, and ``database`` holding the platform
    with the project's migrations applied on top, as a deployment would leave it."""
    from command_line import run_schemac
    from diff.support import flyway_migrate, ok

    write_project(root)
    ok(run_schemac("compile", "--dev-url", dev_url, cwd=root))
    install_platform(database)
    flyway_migrate(database, root / "generated")
    return root
