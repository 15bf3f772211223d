"""`schemac init`: a working project, never over an existing one; compile refuses no YAML."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from command_line import run_schemac
from importer.roundtrip import run_ok
from schemac.project import load_settings

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def test_init_writes_a_project_that_validates(tmp_path: Path) -> None:
    done = run_ok("init", cwd=tmp_path)
    settings_text = (tmp_path / "schemac.yaml").read_text(encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.schema_dir == tmp_path / "schema" and settings.schema_dir.is_dir()
    for key in (
        "schema_dir",
        "generated_dir",
        "tenancy",
        "dev_url",
        "templates_dir",
        "version_width",
    ):
        # Each setting is there, explained by a comment right above it.
        at = next(i for i, line in enumerate(settings_text.splitlines()) if key + ":" in line)
        assert settings_text.splitlines()[at - 1].startswith("#"), key
    schema = json.loads((tmp_path / ".schemac" / "schemac.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert ".schemac/" in (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "Next steps:" in done.stdout and "schemac import --db" in done.stdout
    run_ok("validate", cwd=tmp_path)


def test_the_editor_line_of_an_imported_file_reaches_the_json_schema(
    empty_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute("CREATE SCHEMA app; CREATE TABLE app.t (id integer PRIMARY KEY)")
    run_ok("init", "--db", empty_db, cwd=tmp_path)
    unit = tmp_path / "schema" / "01_app.yaml"
    first = unit.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (unit.parent / first.split("$schema=", 1)[1]).resolve()
    assert target == (tmp_path / ".schemac" / "schemac.schema.json").resolve()
    assert "id: {type: integer, primary_key: true}" in unit.read_text(encoding="utf-8")


def test_init_keeps_an_existing_gitignore_and_adds_the_cache_once(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc\n", encoding="utf-8")
    run_ok("init", cwd=tmp_path)
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "*.pyc" and lines.count(".schemac/") == 1


def test_init_refuses_to_overwrite_a_project(tmp_path: Path) -> None:
    (tmp_path / "schemac.yaml").write_text("schema_dir: mine\n", encoding="utf-8")
    done = run_schemac("init", cwd=tmp_path)
    assert done.returncode == 2
    assert "already exists" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "schemac.yaml").read_text(encoding="utf-8") == "schema_dir: mine\n"
    assert not (tmp_path / "schema").exists()


def test_init_refuses_a_folder_whose_schema_holds_yaml(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "01_app.yaml").write_text("schema: app\n", encoding="utf-8")
    done = run_schemac("init", cwd=tmp_path)
    assert done.returncode == 2 and "already holds YAML" in done.stderr
    assert not (tmp_path / "schemac.yaml").exists()


def test_import_refuses_to_write_over_yaml(empty_db: str, tmp_path: Path) -> None:
    run_ok("init", cwd=tmp_path)
    (tmp_path / "schema" / "01_app.yaml").write_text("schema: app\n", encoding="utf-8")
    done = run_schemac("import", "--db", empty_db, cwd=tmp_path)
    assert done.returncode == 2 and "already holds YAML" in done.stderr
    assert (tmp_path / "schema" / "01_app.yaml").read_text(encoding="utf-8") == "schema: app\n"


def test_compile_without_any_yaml_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    run_ok("init", cwd=tmp_path)
    done = run_schemac("compile", cwd=tmp_path)
    assert done.returncode == 2
    assert "holds no YAML files" in done.stderr and "schemac import --db" in done.stderr
    assert not (tmp_path / "generated").exists()


def test_import_of_chosen_schemas_only(empty_db: str, tmp_path: Path) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute((SCHEMAS / "shop.sql").read_text(encoding="utf-8"))
    run_ok("init", cwd=tmp_path)
    run_ok("import", "--db", empty_db, "--schema", "catalog_data", cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "schema").glob("*.yaml")) == [
        "00_project.yaml",
        "01_catalog_data.yaml",
    ]
    project = (tmp_path / "schema" / "00_project.yaml").read_text(encoding="utf-8")
    assert "shop_reader" in project and "shop_clerk" not in project  # only roles named
    other = tmp_path / "other"
    other.mkdir()
    run_ok("init", cwd=other)
    done = run_schemac("import", "--db", empty_db, "--schema", "nope", cwd=other)
    assert done.returncode == 2 and "no schema nope in the database" in done.stderr


def test_import_works_on_a_database_that_refuses_every_write(empty_db: str, tmp_path: Path) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute((SCHEMAS / "events.sql").read_text(encoding="utf-8"))
        name = connection.execute("SELECT current_database()").fetchone()
        assert name is not None
        connection.execute(f'ALTER DATABASE "{name[0]}" SET default_transaction_read_only = on')
    done = run_schemac("init", "--db", empty_db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "schema" / "01_events.yaml").is_file()
