"""generated/flyway.toml as Flyway's own configuration, run in generated/ as a team would.

Flyway reads TOML in its command line (and so in the flyway/flyway Docker image). The Maven
plugin 13.12 reads config files as Java properties only: given the TOML with
``-Dflyway.configFiles`` it parses it as properties, finds no ``flyway.`` key, and migrates
its own default location. So these tests turn the TOML into that properties file by Flyway's
documented rule (the key ``a.b`` under ``[flyway]`` is the property ``flyway.a.b``; a list is
comma-separated) and give Flyway nothing else: no location, lock or history setting on the
command line, on a pom that sets none of them. Flyway refuses a key it does not know
("Unknown configuration property"), so every key of the TOML is proven to be a Flyway setting.

The project is the platform plus one index declared ``concurrently: true``, which only
migrates when the TOML's lock setting reaches Flyway (with Flyway's default lock,
``CREATE INDEX CONCURRENTLY`` waits for Flyway's own open transaction forever).
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

import command_line
from schemac.flyway import file_checksum, jdbc_url, read_schema_history, scan_migrations
from schemac.shadow import PostgresServer

from .conftest import FLYWAY_POM, REPO_ROOT, FlywayResult, FlywayRunner, _run_maven

pytestmark = pytest.mark.flyway

GENERATED = "generated"
MIGRATIONS = "migrations"
SEED_DATA = "seed-data"
FLYWAY_TOML = "flyway.toml"
SCHEMAC_TIMEOUT_SECONDS = 600

# The index that the tests add to the platform's YAML: it must run outside a transaction.
CONCURRENT_INDEX = "point_transactions_source_idx"
_INDEX_ANCHOR = '      - {columns: [awarded_by], where: "awarded_by IS NOT NULL"}\n'
_INDEX_LINE = (
    f"      - {{name: {CONCURRENT_INDEX}, columns: [source_type, source_id], concurrently: true}}\n"
)
GAMIFICATION_YAML = "04_gamification.yaml"


# -- helpers shared with test_generated_platform.py ---------------------------------------------


def run_schemac(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m schemac <arguments>`` in ``project``, as a developer runs it."""
    return command_line.run_schemac(*arguments, cwd=project, timeout=SCHEMAC_TIMEOUT_SECONDS)


def copy_platform(destination: Path) -> Path:
    """A copy of the platform's YAML project (schema/ and schemac.yaml), without generated/."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO_ROOT / "schema", destination / "schema")
    shutil.copy2(REPO_ROOT / "schemac.yaml", destination / "schemac.yaml")
    return destination


def compile_project(project: Path) -> Path:
    """Run ``schemac compile`` in ``project`` and return its generated/ folder."""
    result = run_schemac(project, "compile")
    assert result.returncode == 0, result.stdout + result.stderr
    return project / GENERATED


def add_concurrent_index(project: Path) -> None:
    """Declare CONCURRENT_INDEX with ``concurrently: true`` in the platform's gamification YAML."""
    path = project / "schema" / GAMIFICATION_YAML
    text = path.read_text(encoding="utf-8")
    assert text.count(_INDEX_ANCHOR) == 1, f"{path} changed: the index has no anchor line"
    path.write_text(text.replace(_INDEX_ANCHOR, _INDEX_ANCHOR + _INDEX_LINE), encoding="utf-8")


def _property_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_property_value(item) for item in value)
    return str(value)


def flyway_properties(toml_path: Path) -> dict[str, str]:
    """The TOML's ``[flyway]`` tables as Flyway properties: ``flyway.<dotted key>`` = value."""
    with toml_path.open("rb") as handle:
        document = tomllib.load(handle)
    properties: dict[str, str] = {}

    def flatten(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                flatten(f"{prefix}.{key}", value)
            else:
                properties[f"{prefix}.{key}"] = _property_value(value)

    flatten("flyway", document["flyway"])
    return properties


def info_rows(output: str) -> list[dict[str, str]]:
    """The migration rows of ``flyway:info``'s table, keyed by its column titles."""
    header: list[str] | None = None
    rows = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("|")][1:-1]
        if not cells:
            continue
        if cells[0] == "Category":
            header = cells
        elif header is not None and cells[0] in {"Versioned", "Repeatable"}:
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


# -- running Flyway with the generated configuration only ---------------------------------------


@dataclass(frozen=True)
class Login:
    user: str
    password: str


@pytest.fixture(scope="module")
def bare_pom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """flyway/pom.xml without its Flyway settings (only the versions stay), and its .mvn/."""
    folder = tmp_path_factory.mktemp("bare-pom")
    text = FLYWAY_POM.read_text(encoding="utf-8")
    setting = re.compile(r"^\s*<flyway\.(?!version>)([\w.]+)>.*</flyway\.\1>\n", re.MULTILINE)
    removed = setting.findall(text)
    assert {"cleanDisabled", "postgresql.transactional.lock"} <= set(removed), removed
    (folder / "pom.xml").write_text(setting.sub("", text), encoding="utf-8")
    shutil.copytree(FLYWAY_POM.parent / ".mvn", folder / ".mvn")
    return folder / "pom.xml"


@pytest.fixture(scope="module")
def toml_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform plus a concurrently built index, compiled; returns the project folder."""
    project = copy_platform(tmp_path_factory.mktemp("toml-project"))
    add_concurrent_index(project)
    compile_project(project)
    return project


@pytest.fixture(scope="module")
def properties_file(toml_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    properties = flyway_properties(toml_project / GENERATED / FLYWAY_TOML)
    path = tmp_path_factory.mktemp("toml-as-properties") / "flyway.conf"
    path.write_text("".join(f"{k}={v}\n" for k, v in properties.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def deployer(pg_server: PostgresServer) -> Iterator[Login]:
    """A login role whose own schema comes first on its search_path (``"$user", public``)."""
    login = Login(f"schemac_deployer_{secrets.token_hex(4)}", secrets.token_hex(16))
    statement = sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
        sql.Identifier(login.user), sql.Literal(login.password)
    )
    try:
        with pg_server.connect() as conn:
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege as error:
        pytest.skip(f"the test server does not let this user create a login role: {error}")
    try:
        yield login
    finally:
        with pg_server.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login.user)))


@pytest.fixture(scope="module")
def deployer_db(pg_server: PostgresServer, deployer: Login) -> Iterator[str]:
    """Name of an empty database in which the deployer owns a schema named after itself."""
    name = pg_server.create_database()
    try:
        with pg_server.connect(name) as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA {0} AUTHORIZATION {0}").format(sql.Identifier(deployer.user))
            )
        yield name
    finally:
        pg_server.drop_database(name)


class ConfiguredFlyway:
    """Flyway through the bare pom, configured by the generated TOML and nothing else."""

    def __init__(self, pom: Path, properties: Path, jdbc: str, login: Login) -> None:
        self.pom = pom
        self.properties = properties
        self.jdbc = jdbc
        self.login = login

    def run(self, folder: Path, *goals: str, options: tuple[str, ...] = ()) -> FlywayResult:
        """Run the goals (one Maven session) with ``folder`` as the working directory."""
        arguments = [
            "mvn",
            "-B",
            "-ntp",
            "-f",
            str(self.pom),
            *(f"flyway:{goal}" for goal in goals),
            f"-Dflyway.configFiles={self.properties}",
            f"-Dflyway.url={self.jdbc}",
            f"-Dflyway.user={self.login.user}",
            f"-Dflyway.password={self.login.password}",
            *options,
        ]
        return _run_maven(arguments, folder)


@pytest.fixture(scope="module")
def configured_flyway(
    flyway: FlywayRunner,  # skips (or fails under CI) without Maven and Java
    pg_server: PostgresServer,
    bare_pom: Path,
    properties_file: Path,
    deployer: Login,
    deployer_db: str,
) -> ConfiguredFlyway:
    jdbc, _, _ = jdbc_url(pg_server.url(deployer_db))
    return ConfiguredFlyway(bare_pom, properties_file, jdbc, deployer)


@dataclass(frozen=True)
class TwoStepFlow:
    schema: FlywayResult  # migrate, validate, info on the TOML's location
    seeds: FlywayResult  # migrate with -locations=filesystem:seed-data
    clean: FlywayResult  # validate, then clean (refused)


@pytest.fixture(scope="module")
def two_step_flow(configured_flyway: ConfiguredFlyway, toml_project: Path) -> TwoStepFlow:
    generated = toml_project / GENERATED
    schema = configured_flyway.run(generated, "migrate", "validate", "info")
    seeds = configured_flyway.run(
        generated, "migrate", options=(f"-Dflyway.locations=filesystem:{SEED_DATA}",)
    )
    clean = configured_flyway.run(generated, "validate", "clean")
    return TwoStepFlow(schema, seeds, clean)


def connect_as_admin(pg_server: PostgresServer, name: str) -> psycopg.Connection[Any]:
    return psycopg.connect(pg_server.url(name))


# -- the tests ----------------------------------------------------------------------------------


def test_generated_toml_holds_what_every_flyway_run_on_generated_needs(
    toml_project: Path,
) -> None:
    generated = toml_project / GENERATED
    properties = flyway_properties(generated / FLYWAY_TOML)
    assert properties == {
        "flyway.locations": f"filesystem:{MIGRATIONS}",
        "flyway.failOnMissingLocations": "true",
        "flyway.validateMigrationNaming": "true",
        "flyway.defaultSchema": "public",
        "flyway.table": "flyway_schema_history",
        "flyway.ignoreMigrationPatterns": "*:future,repeatable:missing",
        "flyway.cleanDisabled": "true",
        "flyway.postgresql.transactional.lock": "false",
    }
    # The relative location is the folder schemac writes, next to the TOML.
    assert (generated / MIGRATIONS).is_dir() and (generated / SEED_DATA).is_dir()


def test_concurrent_index_compiles_into_a_file_of_its_own_with_a_conf(toml_project: Path) -> None:
    migrations = scan_migrations(toml_project / GENERATED / MIGRATIONS)
    outside = [m for m in migrations if not m.execute_in_transaction]
    assert [m.path.name for m in outside] == [
        f"V{len(migrations):03d}__create_index_{CONCURRENT_INDEX}.sql"
    ]
    index_file = outside[0].path
    statements = [
        line
        for line in index_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("--")
    ]
    assert len(statements) == 1 and statements[0].startswith("CREATE INDEX CONCURRENTLY"), (
        statements
    )
    conf = index_file.with_name(index_file.name + ".conf")
    assert conf.read_text(encoding="utf-8").strip() == "executeInTransaction=false"
    assert all(CONCURRENT_INDEX not in m.path.read_text(encoding="utf-8") for m in migrations[:-1])


def test_flyway_migrates_generated_with_the_toml_settings_alone(
    two_step_flow: TwoStepFlow, toml_project: Path, pg_server: PostgresServer, deployer_db: str
) -> None:
    result = two_step_flow.schema
    assert result.exit_code == 0, result.output
    migrations = scan_migrations(toml_project / GENERATED / MIGRATIONS)
    assert f"Successfully applied {len(migrations)} migrations" in result.output
    assert f"Successfully validated {len(migrations)} migrations" in result.output
    # Flyway shows each '_' of a description as a space.
    description = f"create index {CONCURRENT_INDEX}".replace("_", " ")
    assert f'{description}" [non-transactional]' in result.output, result.output
    rows = info_rows(result.output)
    assert len(rows) == len(migrations), result.output
    assert {row["State"] for row in rows} == {"Success"}, result.output
    with connect_as_admin(pg_server, deployer_db) as conn:
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)",
            (f"gamification.{CONCURRENT_INDEX}",),
        ).fetchone()
    assert valid == (True,)


def test_history_table_is_public_even_for_a_role_with_a_schema_of_its_own(
    two_step_flow: TwoStepFlow, pg_server: PostgresServer, deployer_db: str, deployer: Login
) -> None:
    assert two_step_flow.schema.exit_code == 0, two_step_flow.schema.output
    with connect_as_admin(pg_server, deployer_db) as conn:
        in_public = read_schema_history(conn, schema="public")
        in_own_schema = read_schema_history(conn, schema=deployer.user)
    assert in_public and in_own_schema == []
    assert {row.type for row in in_public} == {"SQL"}  # no SCHEMA row: Flyway created none


def test_seed_run_shares_the_history_table_and_loads_the_seeds(
    two_step_flow: TwoStepFlow, toml_project: Path, pg_server: PostgresServer, deployer_db: str
) -> None:
    assert two_step_flow.seeds.exit_code == 0, two_step_flow.seeds.output
    seed_files = sorted((toml_project / GENERATED / SEED_DATA).glob("R__*.sql"))
    assert seed_files
    with connect_as_admin(pg_server, deployer_db) as conn:
        history = read_schema_history(conn, schema="public")
        levels = conn.execute("SELECT count(*) FROM gamification.levels").fetchone()
    repeatables = {row.script: row.checksum for row in history if row.version is None}
    assert repeatables == {path.name: file_checksum(path) for path in seed_files}
    assert levels is not None and levels[0] > 0


def test_clean_is_refused_and_validation_passes_across_both_runs(
    two_step_flow: TwoStepFlow, pg_server: PostgresServer, deployer_db: str
) -> None:
    result = two_step_flow.clean
    assert "Successfully validated" in result.output, result.output
    assert result.exit_code != 0
    assert "Unable to execute clean as it has been disabled" in result.output, result.output
    with connect_as_admin(pg_server, deployer_db) as conn:
        assert conn.execute("SELECT to_regclass('gamification.levels')").fetchone() != (None,)


def test_a_deleted_versioned_migration_still_fails_validation(
    two_step_flow: TwoStepFlow,
    configured_flyway: ConfiguredFlyway,
    toml_project: Path,
    tmp_path: Path,
) -> None:
    # ignoreMigrationPatterns lets each run ignore the other's files, and nothing more.
    assert two_step_flow.seeds.exit_code == 0, two_step_flow.seeds.output
    copy = tmp_path / GENERATED
    shutil.copytree(toml_project / GENERATED, copy)
    deleted = sorted((copy / MIGRATIONS).glob("V*.sql"))[3]
    version = deleted.name.split("__", 1)[0][1:]
    deleted.unlink()
    result = configured_flyway.run(copy, "validate")
    assert result.exit_code != 0
    assert f"Detected applied migration not resolved locally: {version}" in result.output, (
        result.output
    )


def test_flyway_run_outside_generated_fails_instead_of_finding_nothing(
    two_step_flow: TwoStepFlow, configured_flyway: ConfiguredFlyway, toml_project: Path
) -> None:
    assert two_step_flow.schema.exit_code == 0, two_step_flow.schema.output
    result = configured_flyway.run(toml_project, "validate")
    assert result.exit_code != 0
    assert "Failed to find filesystem location: migrations" in result.output, result.output
