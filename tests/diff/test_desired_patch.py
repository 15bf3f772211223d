"""Shadow B by clone-and-patch (schemac.desired_patch) builds what a fresh build builds.

One project takes many kinds of edits one after another; after each, the B that
``build_shadows`` makes by patching the last one must dump (`pg_dump --schema-only`) and read
(the catalog model) exactly as a B built fresh from the same YAML. An edit the patch cannot be
sure of must be built fresh, and say so.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import psycopg
import pytest

from diff.oracle import differences, schema_dump
from diff.support import GLOBAL_YAML, SCHOOL_YAML
from schemac import desired_patch
from schemac.catalog import read_catalog
from schemac.catalog.compare import compare_models
from schemac.compiler import compile_project, open_project
from schemac.desired_patch import Entry, Manifest, PatchRefused, plan_patch
from schemac.external_shadow import after_externals
from schemac.node_keys import key_label, node_key
from schemac.shadow import PostgresServer, scratch_database
from schemac.shadows import Steps, _desired_template, apply_desired_state

SCHOOL = "schema/01_school.yaml"
GLOBAL = "schema/00_global.yaml"

SEQUENCES_YAML = """\
sequences:
  ticket_number: {type: bigint, start: 100, owned_by: lessons.position}
"""
EVENTS_YAML = """\
  events:
    columns:
      id: {type: bigint, not_null: true}
      at: {type: timestamptz, not_null: true}
      course_id: {type: bigint}
    partition_by: {strategy: range, key: [at]}
    indexes: [{columns: [course_id]}]
    partitions:
      events_2025: {from: ["2025-01-01"], to: ["2026-01-01"]}
      events_2026: {from: ["2026-01-01"], to: ["2027-01-01"]}
"""

# (what the edit is, old text, new text, whether the patch is expected to be used)
EDITS: list[tuple[str, str, str, bool]] = [
    ("add a column", "      code: {type: \"varchar(20)\"}\n",
     "      code: {type: \"varchar(20)\"}\n      note: {type: text}\n", True),
    ("type change", "      note: {type: text}\n", "      note: {type: \"varchar(200)\"}\n", True),
    ("drop a column", "      code: {type: \"varchar(20)\"}\n", "", True),
    ("new table", "  lessons:\n",
     "  tags:\n    columns:\n      id: {type: bigint, primary_key: true}\n"
     "      label: {type: text, not_null: true}\n  lessons:\n", True),
    ("index", "      label: {type: text, not_null: true}\n",
     "      label: {type: text, not_null: true}\n    indexes:\n      - {columns: [label]}\n", True),
    ("foreign key", "      label: {type: text, not_null: true}\n",
     "      label: {type: text, not_null: true}\n"
     "      course_id: {type: bigint, references: courses}\n", True),
    ("check", "      title_not_blank: \"btrim(title) <> ''\"\n",
     "      title_not_blank: \"btrim(title) <> ''\"\n      price_positive: \"price > 0\"\n", True),
    ("view over a changed table", "    query: SELECT id, title, level FROM school.courses\n",
     "    query: SELECT id, title, level, price FROM school.courses\n", True),
    ("function body", "      BEGIN\n        RETURN NEW;\n",
     "      BEGIN\n        NEW.title := btrim(NEW.title);\n        RETURN NEW;\n", True),
    ("trigger", "      touch: {timing: before, events: [update], for_each: row, function: touch}\n",
     "      touch: {timing: before, events: [insert, update], for_each: row, function: touch}\n",
     True),
    ("policy", "      visible: {command: select, using: \"true\"}\n",
     "      visible: {command: select, using: \"price IS NOT NULL\"}\n", True),
    ("enum value", "  level: [beginner, advanced]\n", "  level: [beginner, advanced, expert]\n", True),
    ("comment", "comment: A course.\n", "comment: A course of lessons.\n", True),
    ("grant", "table_grants: {school_app: [select, insert, update, delete]}\n",
     "table_grants: {school_app: [select, insert, update, delete], school_reader: [select]}\n",
     True),
    ("sequence", "{type: bigint, start: 100, owned_by: lessons.position}",
     "{type: bigint, start: 200, owned_by: lessons.position}", True),
    ("table owning a sequence", "      position: {type: integer, not_null: true, default: \"0\"}\n",
     "      position: {type: integer, not_null: true, default: \"1\"}\n", True),
    ("partition", "      events_2026: {from: [\"2026-01-01\"], to: [\"2027-01-01\"]}\n",
     "      events_2026: {from: [\"2026-01-01\"], to: [\"2027-01-01\"], comment: This year.}\n"
     "      events_2027: {from: [\"2027-01-01\"], to: [\"2028-01-01\"]}\n", True),
    ("partitioned table's index", "    indexes: [{columns: [course_id]}]\n",
     "    indexes: [{columns: [course_id, at]}]\n", True),
    ("dropped table", "  tags:\n    columns:\n      id: {type: bigint, primary_key: true}\n"
     "      label: {type: text, not_null: true}\n"
     "      course_id: {type: bigint, references: courses}\n"
     "    indexes:\n      - {columns: [label]}\n", "", True),
    ("materialized view", "GROUP BY course_id\n", "WHERE position > 0 GROUP BY course_id\n", True),
    ("dropped partition",
     "      events_2025: {from: [\"2025-01-01\"], to: [\"2026-01-01\"]}\n", "", True),
    ("default privileges", "enums:\n",
     "default_privileges:\n  sequences: {school_reader: [usage]}\nenums:\n", False),
    ("a column after default privileges", "      title: {type: text, not_null: true}\n",
     "      title: {type: text, not_null: true}\n      summary: {type: text}\n", True),
    ("a role's comment", "school_app: {comment: The application.}",
     "school_app: {comment: The application itself.}", False),
]  # fmt: skip


def _write_project(root: Path) -> None:
    (root / "schema").mkdir(parents=True)
    (root / "schemac.yaml").write_text("{}\n", encoding="utf-8")
    (root / "schema" / "00_global.yaml").write_text(GLOBAL_YAML, encoding="utf-8")
    # A word of this run in a comment: templates of earlier sessions on the server never match.
    school = SCHOOL_YAML.replace("Courses and lessons.", f"Courses, run {secrets.token_hex(4)}.")
    school = school.replace("tables:\n", SEQUENCES_YAML + "tables:\n" + EVENTS_YAML, 1)
    (root / SCHOOL).write_text(school, encoding="utf-8")


def _edit(root: Path, old: str, new: str) -> None:
    path = root / (SCHOOL if old in (root / SCHOOL).read_text(encoding="utf-8") else GLOBAL)
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _fresh_dump_and_model(server: PostgresServer, root: Path) -> tuple[str, object]:
    compiled = compile_project(open_project(root))
    with scratch_database(server) as url:
        after_externals(compiled.project, lambda u: apply_desired_state(u, compiled))(url)
        with psycopg.connect(url) as conn:
            return schema_dump(url), read_catalog(conn)


def _patched(server: PostgresServer, root: Path) -> tuple[str, list[str]]:
    said: list[str] = []
    steps = Steps(lambda step, seconds: said.append(step) if seconds is None else None)
    template = _desired_template(server, compile_project(open_project(root)), steps)
    return template, said


def test_a_patched_shadow_b_dumps_and_reads_as_a_fresh_one(
    pg_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A project this small changes much of itself with each edit: patch all but the whole.
    monkeypatch.setattr(desired_patch, "PATCH_SHARE_LIMIT", 0.95)
    root = tmp_path / "project"
    _write_project(root)
    _, said = _patched(pg_server, root)
    assert any("built fresh: no earlier shadow B" in step for step in said), said
    for what, old, new, patched in EDITS:
        _edit(root, old, new)
        template, said = _patched(pg_server, root)
        # the last: a patch PostgreSQL or the checks refuse is followed by a fresh build
        step = [s for s in said if s.startswith("applying the desired state")][-1]
        assert ("re-created on a copy of the last" in step) == patched, f"{what}: {step}"
        fresh_dump, fresh_model = _fresh_dump_and_model(pg_server, root)
        url = pg_server.url(template)
        assert schema_dump(url) == fresh_dump, f"{what}:\n" + differences(
            fresh_dump, schema_dump(url), "fresh B", "patched B"
        )
        with psycopg.connect(url) as conn:
            assert compare_models(read_catalog(conn), fresh_model) == [], what  # type: ignore[arg-type]
            # verdict.py's "found equal before" lives in B's comment: a clone must not inherit it
            comment = conn.execute(
                "SELECT pg_catalog.shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = current_database()"
            ).fetchone()
            assert comment == (None,), what


def _entry(name: str, kind: str = "table", deps: tuple[str, ...] = (), digest: str = "1") -> Entry:
    """A plan's entry for object ``name`` that depends on the objects named ``deps``."""
    key = node_key(kind, name)
    return Entry(key, kind, digest, f"DROP {name}", tuple(node_key("table", d) for d in deps))


def test_the_plan_drops_dependants_first_and_creates_in_the_new_order() -> None:
    kept = tuple(_entry(f"x{i}") for i in range(10))
    old = Manifest("base", (_entry("t"), _entry("v", "view", ("t",)), _entry("u"), *kept))
    new = Manifest(
        "base",
        (_entry("t", digest="2"), _entry("w", "view", ("t",)), _entry("v", "view", ("t",)), *kept),
    )
    patch = plan_patch("source", old, new)
    assert [key_label(e.key) for e in patch.drops] == ["u", "v", "t"]
    assert [key_label(key) for key in patch.creates] == ["t", "w", "v"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("role", "role r changed"), ("extension", "extension r changed")],
)
def test_the_plan_refuses_server_wide_kinds(kind: str, reason: str) -> None:
    old = Manifest("base", tuple(_entry(f"x{i}") for i in range(10)))
    changed = Entry(node_key(kind, "r"), kind, "2", None, ())
    with pytest.raises(PatchRefused, match=reason):
        plan_patch("source", old, Manifest("base", (*old.entries, changed)))


def test_the_plan_refuses_another_base_and_a_large_patch() -> None:
    old = Manifest("base", tuple(_entry(f"x{i}") for i in range(6)))
    with pytest.raises(PatchRefused, match="external objects"):
        plan_patch("source", old, Manifest("other", old.entries))
    edited = tuple(_entry(e.key, digest="2") if i < 3 else e for i, e in enumerate(old.entries))
    with pytest.raises(PatchRefused, match="3 objects to drop and 3 to create"):
        plan_patch("source", old, Manifest("base", edited))


def test_the_plan_refuses_objects_kept_in_another_order() -> None:
    first, second = _entry("a"), _entry("b")
    kept = tuple(_entry(f"x{i}") for i in range(10))
    old = Manifest("base", (first, second, *kept))
    with pytest.raises(PatchRefused, match="another creation order"):
        plan_patch("source", old, Manifest("base", (second, first, *kept)))
