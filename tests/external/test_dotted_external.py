"""An external table whose names contain dots: the platform's schema "auth.x" holds the table
"auth.users" with a trigger of its own; the project's schema "app.v2" references it, puts a
trigger of its own on it and calls its function in a policy. `check --db` after deployment is
clean (the platform's trigger is not the project's business: an object's table is never found
by splitting "auth.x.auth.users" on a dot), and the project's trigger, dropped, is found."""

from __future__ import annotations

from pathlib import Path

import psycopg

from command_line import run_schemac
from diff.support import flyway_migrate, ok

PLATFORM_SQL = """
CREATE SCHEMA "auth.x";
CREATE TABLE "auth.x"."auth.users" (id uuid PRIMARY KEY, "e.mail" text, "meta.data" jsonb);
CREATE FUNCTION "auth.x"."touch.it"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NEW; END $$;
CREATE TRIGGER "platform.touch" BEFORE UPDATE ON "auth.x"."auth.users"
    FOR EACH ROW EXECUTE FUNCTION "auth.x"."touch.it"();
CREATE FUNCTION "auth.x"."u.id"() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;
"""

EXTERNAL_YAML = """\
external:
  schemas:
    auth.x:
      tables:
        auth.users:
          columns:
            id: {type: uuid, primary_key: true}
            e.mail: text
          triggers:
            on.created:
              timing: after
              events: [insert]
              for_each: row
              function: '"app.v2"."new.user"'
      functions:
        u.id: {returns: uuid, volatility: stable}
"""

APP_YAML = """\
schema: app.v2
tables:
  pro.files:
    columns:
      id: {type: uuid, primary_key: true, references: '"auth.x"."auth.users"(id)'}
      e.mail: {type: text}
    row_level_security: {enable: true}
    policies:
      own.profile: {command: select, using: 'id = "auth.x"."u.id"()'}
functions:
  new.user:
    language: plpgsql
    returns: trigger
    body: |
      BEGIN
        INSERT INTO "app.v2"."pro.files" (id, "e.mail") VALUES (NEW.id, NEW."e.mail");
        RETURN NEW;
      END
"""


def test_an_external_table_with_dotted_names(tmp_path: Path, dev_url: str, database: str) -> None:
    root = tmp_path / "project"
    (root / "schema").mkdir(parents=True)
    (root / "schemac.yaml").write_text("version_width: 3\n", encoding="utf-8")
    (root / "schema" / "00_platform.yaml").write_text(EXTERNAL_YAML, encoding="utf-8")
    (root / "schema" / "01_app.yaml").write_text(APP_YAML, encoding="utf-8")
    ok(run_schemac("compile", "--dev-url", dev_url, cwd=root))
    baseline = "\n".join(
        p.read_text(encoding="utf-8")
        for p in sorted((root / "generated" / "migrations").glob("V*.sql"))
    )
    assert 'CREATE TRIGGER "on.created" AFTER INSERT ON "auth.x"."auth.users"' in baseline
    assert 'CREATE SCHEMA "auth.x"' not in baseline and 'TABLE "auth.x"' not in baseline

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(PLATFORM_SQL)
    flyway_migrate(database, root / "generated")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO "auth.x"."auth.users" (id, "e.mail") '
            "VALUES ('00000000-0000-0000-0000-000000000001', 'ada@example.org')"
        )
        row = conn.execute('SELECT "e.mail" FROM "app.v2"."pro.files"').fetchone()
    assert row == ("ada@example.org",)

    # The platform's own trigger (and the platform's extra column) are not the project's.
    ok(run_schemac("check", "--dev-url", dev_url, "--db", database, cwd=root))
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute('DROP TRIGGER "on.created" ON "auth.x"."auth.users"')
    result = run_schemac("check", "--dev-url", dev_url, "--db", database, cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "on.created" in result.stdout + result.stderr
