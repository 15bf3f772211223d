"""Names that contain dots through `schemac diff`: the schema "app.v2", its table "orders.2026"
with the column "total.net", a policy, an index, a trigger and a foreign key from another
schema; an index added later gets its own concurrent file, and a rewrite of the dotted table
is judged as one (the plan looks relations up by (schema, name), never by splitting a label).
Every migration is proven by `schemac check` and the pg_dump oracle."""

from __future__ import annotations

from diff.support import Project, ok
from diff.test_changes import diff_and_prove
from schemac.naming import file_safe

DOTTED_FILE = "schema/02_dotted.yaml"
DOTTED_YAML = """\
schema: app.v2
tables:
  orders.2026:
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      total.net: {type: integer, not_null: true, default: "0"}
      items.count: {type: integer}
      code.text: {type: text}
    row_level_security: {enable: true}
    policies:
      read.positive: {command: select, using: '"total.net" >= 0'}
    triggers:
      touch.row: {timing: before, events: [update], for_each: row, function: '"touch.it"'}
    indexes:
      - {name: by.total, columns: ['"total.net" desc']}
      - {name: by.code, columns: [{column: code.text, opclass: '"pg_catalog"."text_pattern_ops"'}]}
functions:
  touch.it:
    language: plpgsql
    returns: trigger
    body: |
      BEGIN
          NEW."total.net" := abs(NEW."total.net");
          RETURN NEW;
      END;
"""
RECEIPTS = """\
  receipts:
    columns:
      id: {type: bigint, primary_key: true}
      order_id: {type: bigint, references: '"app.v2"."orders.2026"(id)'}
"""


def _with_dotted_schema(project: Project) -> str:
    project.write(DOTTED_FILE, DOTTED_YAML)
    project.edit("  lessons:\n", RECEIPTS + "  lessons:\n")
    return diff_and_prove(project, "add the dotted schema")


def test_a_schema_table_column_policy_index_and_trigger_with_dots(project: Project) -> None:
    _with_dotted_schema(project)
    text = project.migration("add_the_dotted_schema")
    assert 'create schema if not exists "app.v2";' in text
    assert 'create table "app.v2"."orders.2026" (' in text
    assert '"total.net" integer' in text
    assert 'create policy "read.positive"\non "app.v2"."orders.2026"' in text
    assert 'CREATE TRIGGER "touch.row" BEFORE UPDATE ON "app.v2"."orders.2026"' in text
    assert 'EXECUTE FUNCTION "app.v2"."touch.it"();' in text
    assert 'CREATE INDEX "by.total" ON "app.v2"."orders.2026"' in text
    assert 'REFERENCES "app.v2"."orders.2026"(id)' in text
    # The operator class written in SQL's syntax is read as a name chain (not split on its
    # dots into '"""pg_catalog"""...'): the desired state builds, and check finds it exact.
    assert '"by.code" ON "app.v2"."orders.2026" USING btree ("code.text" text_pattern_ops)' in text


def test_an_index_on_the_dotted_table_gets_its_concurrent_file(project: Project) -> None:
    _with_dotted_schema(project)
    project.edit(
        "      - {name: by.total, columns: ['\"total.net\" desc']}\n",
        "      - {name: by.total, columns: ['\"total.net\" desc']}\n"
        "      - {name: by.id.total, columns: [id, '\"total.net\"']}\n",
        DOTTED_FILE,
    )
    diff_and_prove(project, "second index")
    # The file is named after the index alone, not after a piece of "app.v2".
    name = project.migrations()[-1]
    assert name.endswith(f"__second_index_index_{file_safe('by.id.total')}.sql"), name
    text = project.read(f"generated/migrations/{name}")
    assert 'CREATE INDEX CONCURRENTLY "by.id.total" ON "app.v2"."orders.2026"' in text
    assert project.read(f"generated/migrations/{name}.conf") == "executeInTransaction=false\n"


def test_a_rewrite_of_the_dotted_table_is_judged_as_one(project: Project) -> None:
    _with_dotted_schema(project)
    project.edit("items.count: {type: integer}", "items.count: {type: bigint}", DOTTED_FILE)
    # The table exists before the migration: integer -> bigint rewrites it, refused unless
    # accepted (a lookup that split "app.v2.orders.2026" on its first dot missed the table).
    refused = project.diff("wider total")
    assert refused.returncode != 0
    assert "rewrites app.v2.orders.2026" in refused.stdout + refused.stderr
    sql = diff_and_prove(project, "wider total", "--allow-rewrite")
    assert 'alter column "items.count" set data type bigint' in sql
    ok(project.check())
