"""The real CLI, run as a subprocess in temporary projects: exit codes, messages, what is written."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from command_line import run_schemac

CASES = Path(__file__).parents[1] / "cases"


def schemac(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_schemac(*args, cwd=cwd, timeout=120)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(
        CASES / "kitchen_sink", root, ignore=shutil.ignore_patterns("expected*", "generated")
    )
    return root


def test_compile_writes_the_baseline_then_nothing(project: Path) -> None:
    first = schemac("compile", cwd=project)
    assert first.returncode == 0, first.stderr
    migrations = sorted(p.name for p in (project / "generated" / "migrations").iterdir())
    assert migrations == [
        "V001__create_core_schema.sql",
        "V002__create_index_tickets_late.sql",
        "V002__create_index_tickets_late.sql.conf",
        "V003__comment_on_index_tickets_late.sql",
    ]
    assert (
        project / "generated" / "migrations" / "V002__create_index_tickets_late.sql.conf"
    ).read_text() == ("executeInTransaction=false\n")
    recorded = json.loads((project / "generated" / "integrity.json").read_text())
    assert [m["file"] for m in recorded["migrations"]] == [
        "V001__create_core_schema.sql",
        "V002__create_index_tickets_late.sql",
        "V003__comment_on_index_tickets_late.sql",
    ]
    before = snapshot(project / "generated")
    second = schemac("compile", cwd=project)
    assert second.returncode == 0
    assert "up to date" in second.stdout
    assert snapshot(project / "generated") == before
    assert schemac("compile", "--check", cwd=project).returncode == 0


def test_output_is_byte_identical_across_runs_and_folders(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "copy"
    shutil.copytree(project, other)
    # Two new interpreters, each with its own hash seed: no output may follow set order.
    assert run_schemac("compile", cwd=project, new_interpreter=True).returncode == 0
    assert run_schemac("compile", cwd=other, new_interpreter=True).returncode == 0
    assert snapshot(project / "generated") == snapshot(other / "generated")
    for content in snapshot(project / "generated").values():
        assert b"\r\n" not in content and b"${" not in content
        content.decode("utf-8")


def test_commands_find_the_project_from_a_subfolder(project: Path) -> None:
    result = schemac("validate", cwd=project / "schema" / "app")
    assert result.returncode == 0, result.stderr
    assert "no errors" in result.stdout


def test_outside_a_project_is_a_usage_error(tmp_path: Path) -> None:
    result = schemac("validate", cwd=tmp_path)
    assert result.returncode == 2
    assert "no schemac.yaml found" in result.stderr
    assert "Traceback" not in result.stderr


def test_project_option_overrides_discovery(project: Path, tmp_path: Path) -> None:
    result = schemac("validate", "--project", str(project), cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_invalid_input_exits_2_names_the_line_and_writes_nothing(project: Path) -> None:
    assert schemac("compile", cwd=project).returncode == 0
    before = snapshot(project / "generated")
    core = project / "schema" / "01_core.yaml"
    core.write_text(
        core.read_text().replace("not_null: true, unique: true", "nullable: true, unique: true")
    )
    result = schemac("compile", cwd=project)
    assert result.returncode == 2
    assert "schema/01_core.yaml:" in result.stderr
    assert "error[E103]: unknown key 'nullable'" in result.stderr
    assert "^" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(project / "generated") == before


def test_a_yaml_change_refreshes_the_desired_state_but_never_a_migration(project: Path) -> None:
    assert schemac("compile", cwd=project).returncode == 0
    migrations_before = snapshot(project / "generated" / "migrations")
    core = project / "schema" / "01_core.yaml"
    core.write_text(
        core.read_text().replace(
            "      name: {type: citext, not_null: true, unique: true}",
            "      name: {type: citext, not_null: true, unique: true}\n      plan: {type: text}",
        )
    )
    check = schemac("compile", "--check", cwd=project)
    assert check.returncode == 1
    assert "desired-state.sql" in check.stdout
    result = schemac("compile", cwd=project)
    assert result.returncode == 0
    assert "schemac diff" in result.stdout
    assert '"plan" text' in (project / "generated" / "desired-state.sql").read_text()
    assert snapshot(project / "generated" / "migrations") == migrations_before
    # generated/ is fresh, but the migrations do not build the YAML yet: still out of date.
    assert schemac("compile", "--check", cwd=project).returncode == 1


def test_rebaseline_is_explicit(project: Path) -> None:
    assert schemac("compile", cwd=project).returncode == 0
    core = project / "schema" / "01_core.yaml"
    core.write_text(core.read_text().replace("      Tenants.\n", "      The tenants.\n"))
    assert schemac("compile", cwd=project).returncode == 0
    assert (
        "The tenants."
        not in (project / "generated" / "migrations" / "V001__create_core_schema.sql").read_text()
    )
    result = schemac("compile", "--rebaseline", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (
        "The tenants."
        in (project / "generated" / "migrations" / "V001__create_core_schema.sql").read_text()
    )
    assert schemac("compile", "--check", cwd=project).returncode == 0


def test_migrations_without_integrity_file_are_refused(project: Path) -> None:
    assert schemac("compile", cwd=project).returncode == 0
    (project / "generated" / "integrity.json").unlink()
    core = project / "schema" / "01_core.yaml"  # the migrations are no longer this YAML's baseline
    core.write_text(core.read_text().replace("      Tenants.\n", "      The tenants.\n"))
    result = schemac("compile", cwd=project)
    assert result.returncode == 2
    assert "integrity.json is missing" in result.stderr
    assert "schemac compile --rebaseline" in result.stderr


def test_a_baseline_an_older_compile_left_half_written_is_completed(project: Path) -> None:
    assert schemac("compile", cwd=project).returncode == 0
    generated = project / "generated"
    before = {p.relative_to(generated): p.read_bytes() for p in generated.rglob("*") if p.is_file()}
    migrations = sorted((generated / "migrations").glob("V*.sql"))
    assert len(migrations) >= 2
    # What an older schemac killed after V001 left: V001 and nothing recorded.
    (generated / "integrity.json").unlink()
    for later in migrations[1:]:
        later.unlink()
    checked = schemac("compile", "--check", cwd=project)
    assert checked.returncode == 2
    assert "an earlier compile was interrupted" in checked.stderr
    assert "run `schemac compile` to complete it" in checked.stderr
    result = schemac("compile", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "interrupted" in result.stdout
    after = {p.relative_to(generated): p.read_bytes() for p in generated.rglob("*") if p.is_file()}
    assert after == before


def test_every_error_is_reported_not_only_the_first(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(
        CASES / "err_unknown_references", root, ignore=shutil.ignore_patterns("expected*")
    )
    result = schemac("validate", cwd=root)
    assert result.returncode == 2
    assert result.stderr.count("error[") >= 8
    assert "did you mean 'integer'?" in result.stderr


def test_project_templates_override_builtin_ones(project: Path) -> None:
    (project / "my-templates").mkdir()
    # An override may import the shared macros itself, as the built-in templates once did
    # (they now find them as the global `m`).
    (project / "my-templates" / "enum.sql.j2").write_text(
        '{% import "_macros.sql.j2" as shared %}'
        "CREATE TYPE {{ obj.qname.sql }} AS ENUM ({% for v in obj['values'] %}{{ v | literal }}"
        "{{ ', ' if not loop.last }}{% endfor %}); -- house style\n"
        '{{ shared.comment_on("TYPE", obj.qname.sql, "Moods.") }}\n'
    )
    (project / "schemac.yaml").write_text(
        (project / "schemac.yaml").read_text() + "templates_dir: my-templates\n"
    )
    assert schemac("compile", cwd=project).returncode == 0
    state = (project / "generated" / "desired-state.sql").read_text()
    assert "CREATE TYPE \"core\".\"mood\" AS ENUM ('happy', 'sad'); -- house style" in state
    assert "CREATE TABLE" in state  # the other templates still come from the package
    assert 'COMMENT ON TYPE "core"."mood" IS \'Moods.\';' in state

    # Compiled templates are cached between runs; an edited template must still take effect
    # (the same length, so only the content, not the size or the name, tells them apart).
    template = project / "my-templates" / "enum.sql.j2"
    template.write_text(template.read_text().replace("house style", "house STYLE"))
    assert schemac("compile", cwd=project).returncode == 0
    state = (project / "generated" / "desired-state.sql").read_text()
    assert "-- house STYLE" in state
    assert "-- house style" not in state


def test_schema_command_prints_the_json_schema(tmp_path: Path) -> None:
    result = schemac("schema", cwd=tmp_path)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    out = tmp_path / ".schemac" / "schemac.schema.json"
    assert schemac("schema", "--output", str(out), cwd=tmp_path).returncode == 0
    assert json.loads(out.read_text()) == schema


def test_unknown_option_is_a_usage_error(project: Path) -> None:
    result = schemac("compile", "--frobnicate", cwd=project)
    assert result.returncode == 2


def test_a_deleted_recorded_migration_fails_compile_check(project: Path) -> None:
    assert schemac("compile", cwd=project).returncode == 0
    victim = sorted((project / "generated" / "migrations").glob("V*.sql"))[-1]
    victim.unlink()
    result = schemac("compile", "--check", cwd=project)
    assert result.returncode == 1
    assert f"generated/migrations/{victim.name} is recorded in integrity.json but was deleted" in (
        result.stdout
    )
    assert f"git checkout -- generated/migrations/{victim.name}" in result.stdout
    result = schemac("compile", cwd=project)
    assert result.returncode == 2 and "was deleted" in result.stderr
    assert not victim.exists()


def test_an_incomplete_installation_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """A library a command imports lazily is missing (here pglast, shadowed by a module that
    fails to import): a message naming it and exit 3, as for any environment failure."""
    from command_line import SOURCE_ROOT

    shadow = tmp_path / "shadowed"
    shadow.mkdir()
    (shadow / "pglast.py").write_text('raise ImportError("No module named pglast")\n')
    project = tmp_path / "project"
    (project / "schema").mkdir(parents=True)
    (project / "schemac.yaml").write_text("schema_dir: schema\n")
    done = run_schemac("validate", cwd=project, env={"PYTHONPATH": f"{shadow}:{SOURCE_ROOT}"})
    assert done.returncode == 3, done.stdout + done.stderr
    assert "installation is incomplete" in done.stderr and "pglast" in done.stderr
    assert "Traceback" not in done.stderr
