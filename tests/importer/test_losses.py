"""What the YAML cannot hold is said, naming the object and the attribute; objects it cannot
hold stop the import before anything is written."""

from __future__ import annotations

from pathlib import Path

import psycopg

from command_line import run_schemac

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _load(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute((SCHEMAS / f"{name}.sql").read_text(encoding="utf-8"))


def test_every_attribute_the_yaml_lacks_is_a_warning_naming_it(
    empty_db: str, tmp_path: Path
) -> None:
    _load(empty_db, "losses")
    done = run_schemac("init", "--db", empty_db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    expected = [
        "table lossy.items: options not imported",  # fillfactor
        "table lossy.items: constraint items_amount_check: no inherit not imported",
        "trigger quiet on lossy.items: enabled not imported",
    ]
    for text in expected:
        assert any(w.startswith(f"warning: {text}") for w in warnings), (text, done.stderr)
    # column privileges are imported (GRANT SELECT (id) is the column's grants:)
    assert not any("acl" in w for w in warnings), done.stderr
    assert "loss_reader: [select]" in (tmp_path / "schema" / "01_lossy.yaml").read_text()
    # a partition's own trigger is the partition's YAML (once a loss)
    assert not any("partition" in w for w in warnings), done.stderr
    assert "parts_quiet:" in (tmp_path / "schema" / "01_lossy.yaml").read_text()
    assert (tmp_path / "schema" / "01_lossy.yaml").is_file()


def test_objects_the_yaml_cannot_hold_stop_the_import_and_are_listed(
    empty_db: str, tmp_path: Path
) -> None:
    _load(empty_db, "refused")
    run_schemac("init", cwd=tmp_path)
    done = run_schemac("import", "--db", empty_db, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "function app.answer(): a SQL-standard body" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "schema").iterdir()) == []
