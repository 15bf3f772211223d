"""The project: its settings file, found by walking up from the current directory, and its YAML files."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.errors import InvalidInput, UsageError
from schemac.hazards import LintSettings, parse_lint_settings
from schemac.limits import MAX_YAML_FILE_BYTES, FileRefused, inside_project, refused_diagnostic
from schemac.loader import LocatedDict, load_file
from schemac.online_settings import MigrationSettings, parse_migration_settings
from schemac.privileges import PrivilegeSettings, parse_privilege_settings

SETTINGS_FILE = "schemac.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_POSTGRES_VERSION = 15
# Majors schemac knows the differences of (schemac.target); older ones are out of support.
POSTGRES_VERSIONS = range(13, 19)


@dataclass(frozen=True)
class Tenancy:
    """What `tenant:` on a table expands to."""

    column: str = "organization_id"
    setting: str = "app.current_organization_id"
    type: str = "uuid"
    policy: str = "tenant_isolation"


@dataclass(frozen=True)
class Settings:
    root: Path
    schema_dir: Path
    generated_dir: Path
    templates_dir: Path | None
    tenancy: Tenancy
    dev_url: str | None
    version_width: int = 3
    # The PostgreSQL major version the migrations must run on (the platform promises 15+).
    postgres_version: int = DEFAULT_POSTGRES_VERSION
    lint: LintSettings = field(default_factory=LintSettings)  # `schemac lint` (hazards.py)
    # timeouts and online-safe plans of `schemac diff` (online_settings.py)
    migrations: MigrationSettings = field(default_factory=MigrationSettings)
    # what PUBLIC keeps by default (privileges.py)
    privileges: PrivilegeSettings = field(default_factory=PrivilegeSettings)

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE


_SETTINGS_KEYS = {
    "schema_dir",
    "generated_dir",
    "templates_dir",
    "tenancy",
    "dev_url",
    "version_width",
    "postgres_version",
    "lint",
    "migrations",
    "privileges",
}
_TENANCY_KEYS = {"column", "setting", "type", "policy"}


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` holding schemac.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise UsageError(
        f"no {SETTINGS_FILE} found in {here} or any folder above it; "
        "run schemac inside a project or pass --project"
    )


def load_settings(root: Path) -> Settings:
    """Read and check schemac.yaml; unknown keys are errors, like everywhere else."""
    path = root / SETTINGS_FILE
    loaded = load_file(path)
    if loaded.diagnostics:
        raise InvalidInput(loaded.diagnostics)
    data = loaded.documents[0].data if loaded.documents else None
    if data is None:
        data = LocatedDict()
        data.location = SourceLocation(path, 1, 1)
        data.key_locations = {}
        data.value_locations = {}
    if not isinstance(data, LocatedDict):
        raise InvalidInput(
            [Diagnostic("E200", "the settings file must be a mapping", SourceLocation(path, 1, 1))]
        )
    problems = _unknown_keys(data, _SETTINGS_KEYS)
    tenancy_data = data.get("tenancy") or {}
    if isinstance(tenancy_data, LocatedDict):
        problems += _unknown_keys(tenancy_data, _TENANCY_KEYS)
    elif not isinstance(tenancy_data, dict):
        problems.append(
            Diagnostic(
                "E201",
                "'tenancy' must be a mapping (column, setting, type, policy)",
                data.value_locations.get("tenancy"),
            )
        )
        tenancy_data = {}
    for key in ("schema_dir", "generated_dir", "templates_dir", "dev_url"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            problems.append(
                Diagnostic("E201", f"'{key}' must be a string", data.value_locations[key])
            )
    width = data.get("version_width", 3)
    if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= 10:
        problems.append(
            Diagnostic(
                "E201",
                "'version_width' must be an integer from 1 to 10",
                data.value_locations.get("version_width"),
            )
        )
    if isinstance(tenancy_data, LocatedDict):
        problems += _tenancy_problems(tenancy_data)
    target = data.get("postgres_version", DEFAULT_POSTGRES_VERSION)
    if not isinstance(target, int) or isinstance(target, bool) or target not in POSTGRES_VERSIONS:
        problems.append(
            Diagnostic(
                "E201",
                f"'postgres_version' must be a PostgreSQL major version from "
                f"{POSTGRES_VERSIONS.start} to {POSTGRES_VERSIONS.stop - 1} (e.g. 15)",
                data.value_locations.get("postgres_version"),
            )
        )
    lint, lint_problems = parse_lint_settings(data.get("lint"), data.value_locations.get("lint"))
    problems += lint_problems
    migrations, migrations_problems = parse_migration_settings(
        data.get("migrations"), data.value_locations.get("migrations")
    )
    problems += migrations_problems
    privileges, privileges_problems = parse_privilege_settings(
        data.get("privileges"), data.value_locations.get("privileges")
    )
    problems += privileges_problems
    if problems:
        raise InvalidInput(problems)
    tenancy = Tenancy(**{k: str(v) for k, v in tenancy_data.items() if k in _TENANCY_KEYS})
    templates = data.get("templates_dir")
    return Settings(
        root=root,
        schema_dir=root / str(data.get("schema_dir", "schema")),
        generated_dir=root / str(data.get("generated_dir", "generated")),
        templates_dir=(root / templates) if templates else None,
        tenancy=tenancy,
        dev_url=os.environ.get("SCHEMAC_DEV_URL") or data.get("dev_url"),
        version_width=int(width),
        postgres_version=int(target),
        lint=lint,
        migrations=migrations,
        privileges=privileges,
    )


_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyz_")
_NAME_REST = _NAME_START | frozenset("0123456789")


def is_plain_name(text: str) -> bool:
    """A name as schemac names are written (lower case letters, digits, underscores, not
    starting with a digit), at most 63 bytes: what PostgreSQL keeps of an identifier."""
    return 0 < len(text) <= 63 and text[0] in _NAME_START and all(c in _NAME_REST for c in text[1:])


def _tenancy_problems(tenancy: LocatedDict) -> list[Diagnostic]:
    """Each tenancy setting parsed as what it is: names are names, the setting is a custom
    GUC name (`prefix.name`); the type's text is checked as a type name where a table uses it."""
    problems: list[Diagnostic] = []
    for key in sorted(_TENANCY_KEYS & set(tenancy), key=list(tenancy).index):
        value, where = tenancy[key], tenancy.value_locations[key]
        if not isinstance(value, str) or not value.strip():
            problems.append(
                Diagnostic("E201", f"'tenancy.{key}' must be a non-empty string", where)
            )
        elif key in ("column", "policy") and not is_plain_name(value):
            problems.append(
                Diagnostic(
                    "E201",
                    f"'tenancy.{key}' must be one name (lower case letters, digits, underscores)",
                    where,
                )
            )
        elif key == "setting" and not (
            value.count(".") == 1 and all(is_plain_name(part) for part in value.split("."))
        ):
            problems.append(
                Diagnostic(
                    "E201",
                    "'tenancy.setting' must be a custom setting name such as "
                    "app.current_organization_id (prefix.name)",
                    where,
                )
            )
    return problems


def _unknown_keys(data: LocatedDict, allowed: set[str]) -> list[Diagnostic]:
    return [
        Diagnostic(
            "E103", f"unknown key '{key}'", data.key_locations[key], hint=did_you_mean(key, allowed)
        )
        for key in data
        if key not in allowed
    ]


@dataclass(frozen=True)
class Unit:
    """A top-level entry of the schema folder: one YAML file, or a folder of them."""

    name: str
    files: tuple[Path, ...]


def discover_units(schema_dir: Path, root: Path | None = None) -> list[Unit]:
    """Units in path order; hidden entries are ignored. Every YAML file must be a regular file
    inside the project (`root`, default the schema folder's parent) of bounded size; a
    symbolic link that leads nowhere or out of the project is an error, never skipped."""
    if not schema_dir.is_dir():
        raise UsageError(f"schema folder {schema_dir} does not exist")
    project_root = root if root is not None else schema_dir.parent
    units: list[Unit] = []
    problems: list[Diagnostic] = []
    try:
        entries = sorted(schema_dir.iterdir(), key=lambda p: p.name)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.suffix in YAML_SUFFIXES and not entry.is_dir():
                if _acceptable_file(entry, project_root, problems):
                    units.append(Unit(entry.stem, (entry,)))
            elif entry.is_dir() and not entry.name.startswith("_"):
                found = sorted(p for p in entry.rglob("*") if p.suffix in YAML_SUFFIXES)
                files = tuple(
                    p
                    for p in found
                    if not p.is_dir() and _acceptable_file(p, project_root, problems)
                )
                if files:
                    units.append(Unit(entry.name, files))
    except OSError as exc:
        raise UsageError(
            f"cannot list {exc.filename or schema_dir}: {exc.strerror or exc}"
        ) from exc
    if problems:
        raise InvalidInput(problems)
    return units


def _acceptable_file(path: Path, root: Path, problems: list[Diagnostic]) -> bool:
    """Whether `path` is a YAML file schemac may read; a reason joins `problems` otherwise."""
    where = SourceLocation(path, 1, 1)
    if any(ord(c) < 32 or c == "\x7f" for c in path.name) or "${" in str(path):
        problems.append(
            Diagnostic(
                "E111",
                "the file name holds a control character or '${'; it is written into the "
                "migrations' `-- Source:` line",
                where,
                hint="rename the file",
            )
        )
        return False
    try:
        inside_project(path, root)
        info = path.stat()
    except FileRefused as exc:
        problems.append(refused_diagnostic(exc, where))
        return False
    except OSError as exc:
        problems.append(Diagnostic("E100", f"cannot read file: {exc.strerror or exc}", where))
        return False
    if not stat.S_ISREG(info.st_mode):
        problems.append(
            Diagnostic("E111", "not a regular file", where, hint="schema/ holds YAML files only")
        )
        return False
    if info.st_size > MAX_YAML_FILE_BYTES:
        problems.append(
            Diagnostic(
                "E110",
                f"a YAML file may hold at most {MAX_YAML_FILE_BYTES:,} bytes; this one holds "
                f"{info.st_size:,}",
                where,
                hint="split it into several files (see docs/yaml-format.md, Limits)",
            )
        )
        return False
    return True
