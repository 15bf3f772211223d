"""An extension's declared version: a version its scripts cannot reach from the installed one
is refused before anything is tried, naming the extension and why."""

from __future__ import annotations

from diff.support import Project, ok

GLOBAL_FILE = "schema/00_global.yaml"


def test_an_extension_downgrade_is_refused_naming_it(project: Project) -> None:
    before = project.migrations()
    project.edit(
        "citext: {schema: public}", 'citext: {schema: public, version: "1.5"}', GLOBAL_FILE
    )
    result = ok(project.diff("older citext"), 2)
    assert "these changes cannot be migrated" in result.stderr
    assert "extension citext: version 1." in result.stderr
    assert "the YAML declares 1.5, which is a downgrade" in result.stderr
    assert "PostgreSQL has no downgrade path" in result.stderr
    assert "Traceback" not in result.stderr
    assert project.migrations() == before
