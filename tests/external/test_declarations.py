"""External declarations validate references and are refused loudly when wrong (no server)."""

from __future__ import annotations

from pathlib import Path

from command_line import run_schemac
from diff.support import ok
from external.platform import APP_YAML, EXTERNAL_YAML, write_project


def _validate(root: Path) -> tuple[int, str]:
    result = run_schemac("validate", cwd=root)
    return result.returncode, result.stdout + result.stderr


def test_the_declarations_make_the_references_valid(tmp_path: Path) -> None:
    write_project(tmp_path)
    code, said = _validate(tmp_path)
    assert code == 0, said


def test_without_the_declarations_each_reference_is_an_error(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "schema" / "00_platform.yaml").write_text("roles:\n  anon: {}\n", encoding="utf-8")
    code, said = _validate(tmp_path)
    assert code == 2
    assert "unknown role 'authenticated'" in said
    assert "references unknown table auth.users" in said


def test_an_undeclared_external_column_or_type_is_an_error(tmp_path: Path) -> None:
    write_project(tmp_path)
    app = tmp_path / "schema" / "01_app.yaml"
    app.write_text(
        APP_YAML.replace("table: auth.users,", "table: auth.users, column: email,").replace(
            "auth.aal_level", "auth.aal"
        ),
        encoding="utf-8",
    )
    code, said = _validate(tmp_path)
    assert code == 2
    assert "E342" in said  # email is neither a primary key nor unique
    assert "unknown type auth.aal" in said


def test_a_type_without_stub_needs_the_setup_file(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "schema" / "00_platform.yaml").write_text(
        EXTERNAL_YAML + "    extensions:\n      types:\n        vector: {}\n", encoding="utf-8"
    )
    code, said = _validate(tmp_path)
    assert code == 2
    assert "00_platform.yaml:" in said and "E391" in said and "extensions.vector" in said


def test_an_unknown_key_is_a_schema_error_at_its_line(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "schema" / "00_platform.yaml").write_text(
        EXTERNAL_YAML.replace("      functions:", "      procedures:"), encoding="utf-8"
    )
    code, said = _validate(tmp_path)
    assert code == 2 and "00_platform.yaml:" in said and "procedures" in said


def test_shadow_setup_creates_what_stubs_cannot(tmp_path: Path, dev_url: str) -> None:
    """A type the setup file makes (here a domain standing in for an extension's type)."""
    write_project(tmp_path)
    (tmp_path / "schema" / "platform.sql").write_text(
        "CREATE SCHEMA IF NOT EXISTS extensions;\n"
        "CREATE DOMAIN extensions.embedding AS real[] CHECK (cardinality(VALUE) = 3);\n",
        encoding="utf-8",
    )
    (tmp_path / "schema" / "00_platform.yaml").write_text(
        EXTERNAL_YAML
        + "    extensions:\n      types:\n        embedding: {}\n  shadow_setup: platform.sql\n",
        encoding="utf-8",
    )
    app = tmp_path / "schema" / "01_app.yaml"
    app.write_text(
        APP_YAML.replace(
            "      display_name: {type: text}\n",
            "      display_name: {type: text}\n      taste: {type: extensions.embedding}\n",
        ),
        encoding="utf-8",
    )
    ok(run_schemac("compile", "--dev-url", dev_url, cwd=tmp_path))
    ok(run_schemac("check", "--dev-url", dev_url, cwd=tmp_path))
    baseline = (tmp_path / "generated" / "migrations" / "V001__create_app_schema.sql").read_text()
    assert '"taste" "extensions"."embedding"' in baseline and "CREATE DOMAIN" not in baseline


def test_an_extension_in_an_external_schema_and_its_qualified_type(
    tmp_path: Path, dev_url: str
) -> None:
    """Supabase keeps extensions in an `extensions` schema it manages; `extensions.citext`
    validates as the declared extension's type and the baseline applies on the stubs."""
    write_project(tmp_path)
    (tmp_path / "schema" / "00_platform.yaml").write_text(
        "extensions:\n  citext: {schema: extensions}\n" + EXTERNAL_YAML + "    extensions: {}\n",
        encoding="utf-8",
    )
    app = tmp_path / "schema" / "01_app.yaml"
    app.write_text(
        APP_YAML.replace(
            "      display_name: {type: text}\n",
            "      display_name: {type: text}\n      handle: {type: extensions.citext}\n",
        ),
        encoding="utf-8",
    )
    ok(run_schemac("compile", "--dev-url", dev_url, cwd=tmp_path))
    baseline = (tmp_path / "generated" / "migrations" / "V001__create_app_schema.sql").read_text()
    assert 'CREATE EXTENSION IF NOT EXISTS "citext" WITH SCHEMA "extensions"' in baseline
    assert 'CREATE SCHEMA "extensions"' not in baseline
    app.write_text(APP_YAML.replace("{type: text}", "{type: extensions.citxt}"), encoding="utf-8")
    code, said = _validate(tmp_path)
    assert code == 2 and "unknown type extensions.citxt" in said


def test_a_schema_owned_by_an_external_role(tmp_path: Path, dev_url: str) -> None:
    write_project(tmp_path)
    app = tmp_path / "schema" / "01_app.yaml"
    app.write_text("owner: authenticated\n" + APP_YAML, encoding="utf-8")
    ok(run_schemac("compile", "--dev-url", dev_url, cwd=tmp_path))
    baseline = (tmp_path / "generated" / "migrations" / "V001__create_app_schema.sql").read_text()
    assert 'AUTHORIZATION "authenticated"' in baseline and "CREATE ROLE" not in baseline
    ok(run_schemac("check", "--dev-url", dev_url, cwd=tmp_path))


def test_an_object_cannot_be_both_external_and_managed(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "schema" / "00_platform.yaml").write_text(
        EXTERNAL_YAML + "    app:\n      functions:\n        handle_new_user: {returns: trigger}\n",
        encoding="utf-8",
    )
    code, said = _validate(tmp_path)
    assert code == 2 and "E390" in said and "app.handle_new_user is declared external" in said
