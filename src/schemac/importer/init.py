"""`schemac init`: a new project in the current folder, ready for YAML or for `schemac import`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from schemac.errors import UsageError
from schemac.importer import JSON_SCHEMA_PATH, existing_yaml
from schemac.project import SETTINGS_FILE, Settings, discover_units

SCHEMA_DIR = "schema"
GITIGNORE_ENTRY = ".schemac/"

SETTINGS_TEXT = """\
# schemac project settings (docs/yaml-format.md). Every schemac command finds this file by
# walking up from the current folder; the paths below are relative to it.

# Where the YAML lives: each file (or folder of files) is one unit, usually one PostgreSQL
# schema, compiled in dependency order.
schema_dir: schema

# What Flyway consumes: the versioned migrations, the desired state, seed data and
# flyway.toml. The first compile writes the baseline migrations; later compiles add one
# migration per change. Never edit a migration a database has applied.
generated_dir: generated

# What `tenant: true` on a table means: row-level security enabled and forced, and a policy
# named `policy` that keeps the rows whose `column` equals the session setting `setting`
# (cast to `type`). The application sets it per transaction:
#   SET LOCAL app.current_organization_id = '...';
tenancy:
  column: organization_id
  setting: app.current_organization_id
  type: uuid
  policy: tenant_isolation

# A PostgreSQL server where diff and check create their shadow databases (the role needs
# CREATEDB). Without it schemac starts an embedded PostgreSQL; $SCHEMAC_DEV_URL overrides it.
# dev_url: postgresql://schemac@localhost:5432/postgres

# A folder of templates that override the built-in ones of the same name.
# templates_dir: templates

# Digits of the migration versions: 3 gives V001__..., V002__...
# version_width: 3
"""


@dataclass
class InitResult:
    root: Path
    written: list[Path] = field(default_factory=list)


def refuse_existing_project(root: Path) -> None:
    """An existing project is never overwritten: its settings and YAML are someone's work."""
    if (root / SETTINGS_FILE).exists():
        raise UsageError(
            f"{root / SETTINGS_FILE} already exists: this folder is a schemac project; "
            "run init in a new folder"
        )
    existing = existing_yaml(root / SCHEMA_DIR)
    if existing:
        raise UsageError(
            f"{root / SCHEMA_DIR} already holds YAML ({existing[0].name}, ...); "
            "run init in a new folder"
        )


def init_project(root: Path) -> InitResult:
    """Write schemac.yaml, schema/, the editor's JSON Schema and a .gitignore entry."""
    from schemac.validate import json_schema

    refuse_existing_project(root)
    result = InitResult(root)
    settings_path = root / SETTINGS_FILE
    settings_path.write_text(SETTINGS_TEXT, encoding="utf-8")
    result.written.append(settings_path)
    schema_dir = root / SCHEMA_DIR
    schema_dir.mkdir(exist_ok=True)
    result.written.append(schema_dir)
    schema_path = root / JSON_SCHEMA_PATH
    schema_path.parent.mkdir(parents=True, exist_ok=True)
    schema_path.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    result.written.append(schema_path)
    gitignore = root / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    if GITIGNORE_ENTRY not in lines and ".schemac" not in lines:
        prefix = "" if not lines else "\n"
        with gitignore.open("a", encoding="utf-8") as out:
            out.write(f"{prefix}# schemac's cache and the editor's JSON Schema (schemac init)\n")
            out.write(GITIGNORE_ENTRY + "\n")
        result.written.append(gitignore)
    return result


def next_steps(imported: bool) -> list[str]:
    if imported:
        return [
            "Next steps:",
            "  1. read the YAML in schema/ and the warnings above (what the YAML could not keep)",
            "  2. schemac compile            # writes the baseline migrations into generated/",
            "  3. tell Flyway production is already at the baseline (docs/adopting.md), in generated/:",
            "     flyway -url=... baseline -baselineVersion=<version of the last V*.sql>",
            "  4. schemac check --db URL     # clean: the database is what the YAML says",
        ]
    return [
        "Next steps:",
        "  1. describe a schema in schema/01_<name>.yaml (docs/yaml-format.md), or import one:",
        "     schemac import --db postgresql://user@host/dbname",
        "  2. schemac validate           # every error with file:line:col",
        "  3. schemac compile            # writes the migrations into generated/",
    ]


def require_yaml(settings: Settings) -> None:
    """Compiling no YAML at all would record an empty baseline, which later compiles keep:
    refuse it and say what to do instead."""
    if not discover_units(settings.schema_dir):
        raise UsageError(
            f"{settings.schema_dir} holds no YAML files, so there is nothing to compile "
            "(an empty baseline would stay the baseline); describe a schema in "
            f"{settings.schema_dir.name}/01_<name>.yaml (docs/yaml-format.md) or import a "
            "database: schemac import --db URL"
        )
