"""The project: its settings file, found by walking up from the current directory, and its YAML files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from schemac.diagnostics import Diagnostic, SourceLocation, did_you_mean
from schemac.errors import InvalidInput, UsageError
from schemac.hazards import LintSettings, parse_lint_settings
from schemac.loader import LocatedDict, load_file

SETTINGS_FILE = "schemac.yaml"
YAML_SUFFIXES = (".yaml", ".yml")


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
    lint: LintSettings = field(default_factory=LintSettings)  # `schemac lint` (hazards.py)

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
    "lint",
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
    lint, lint_problems = parse_lint_settings(data.get("lint"), data.value_locations.get("lint"))
    problems += lint_problems
    if problems:
        raise InvalidInput(problems)
    tenancy = Tenancy(**{k: str(v) for k, v in tenancy_data.items()})
    templates = data.get("templates_dir")
    return Settings(
        root=root,
        schema_dir=root / str(data.get("schema_dir", "schema")),
        generated_dir=root / str(data.get("generated_dir", "generated")),
        templates_dir=(root / templates) if templates else None,
        tenancy=tenancy,
        dev_url=os.environ.get("SCHEMAC_DEV_URL") or data.get("dev_url"),
        version_width=int(width),
        lint=lint,
    )


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


def discover_units(schema_dir: Path) -> list[Unit]:
    """Units in path order; hidden entries are ignored."""
    if not schema_dir.is_dir():
        raise UsageError(f"schema folder {schema_dir} does not exist")
    units: list[Unit] = []
    for entry in sorted(schema_dir.iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "_")) and entry.is_dir():
            continue
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix in YAML_SUFFIXES:
            units.append(Unit(entry.stem, (entry,)))
        elif entry.is_dir():
            files = tuple(
                sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)
            )
            if files:
                units.append(Unit(entry.name, files))
    return units
