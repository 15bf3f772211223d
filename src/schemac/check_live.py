"""`schemac check --db`: a live database against the YAML, read only, and its Flyway history.

The database is read in READ ONLY transactions, so a role that may only read the catalog is
enough. Its objects are compared with the desired state's shadow database (migra, facts and
catalog models, owners left out), its declared roles with the YAML's roles, and its
flyway_schema_history with generated/.
"""

from __future__ import annotations

import psycopg

from schemac import flyway
from schemac.catalog import ModelDifference, read_roles
from schemac.check import (
    DRIFT,
    HISTORY,
    CheckResult,
    Finding,
    _at,
    _by_object,
    _grouped,
    _relative,
    _warnings,
)
from schemac.compiler import Compiled
from schemac.drift import MigrationScript, Steps, compare_databases, connect, locate, unquote
from schemac.external_shadow import without_external
from schemac.generated_files import SEED_DIR
from schemac.role_drift import declared_roles, role_differences
from schemac.shadow import redact
from schemac.supplements import FactKey


def check_live(
    compiled: Compiled,
    migrations: list[MigrationScript],
    db_url: str,
    desired_url: str,
    result: CheckResult,
    steps: Steps,
) -> None:
    shown = redact(db_url)
    owned = {s.name for _, s in compiled.project.schemas if s.owner}

    declared_extensions = {e.name: e for _, e in compiled.project.extensions}

    def ignore(key: FactKey) -> bool:
        # Whoever runs the migrations owns the schemas; only a declared owner is schemac's business.
        return key.category == "schema_owner" and unquote(key.identity) not in owned

    def ignore_model(difference: ModelDifference) -> bool:
        if difference.attribute == "owner":  # as above, for every kind
            return not (difference.kind == "schema" and difference.name in owned)
        extension = declared_extensions.get(difference.name)
        if difference.kind == "extension" and extension is not None:
            # A version or schema the YAML leaves open is the server's choice.
            return getattr(extension, difference.attribute, "") is None
        return False

    comparison = compare_databases(
        db_url,
        desired_url,
        privileges=False,
        current_read_only=True,
        skip_relations=(flyway.DEFAULT_HISTORY_TABLE,),
        ignore=ignore,
        ignore_model=ignore_model,
        steps=steps,
    )
    comparison = without_external(comparison, compiled.project)  # not ours: schemac.external
    for name, (details, ref) in _by_object(comparison).items():
        result.findings.append(
            Finding(
                DRIFT,
                f"{shown} differs from the YAML: {name}: {details}",
                **_at(compiled, locate(compiled, ref)),
            )
        )
    _warnings(compiled, comparison, result)
    _check_live_roles(compiled, db_url, result)
    _check_history(compiled, migrations, db_url, result)
    result.checked.append(f"database {shown}")


def _check_live_roles(compiled: Compiled, db_url: str, result: CheckResult) -> None:
    """The declared roles on the live server, as model objects (the server's other roles are not ours)."""
    with connect(db_url, autocommit=False) as conn:
        conn.read_only = True
        current = read_roles(conn)
        conn.rollback()
    declared = {role.name: role for role in declared_roles(compiled)}
    for name, details in _grouped(role_differences(current, declared.values())).items():
        result.findings.append(
            Finding(
                DRIFT,
                f"{redact(db_url)} differs from the YAML: role {name}: {details}",
                **_at(compiled, declared[name].loc),
            )
        )


def _check_history(
    compiled: Compiled, migrations: list[MigrationScript], db_url: str, result: CheckResult
) -> None:
    shown = redact(db_url)
    with connect(db_url, autocommit=False) as conn:
        conn.read_only = True
        # Flyway keeps the table in the first schema it manages (public unless configured).
        located = conn.execute(
            "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relname = %s AND c.relkind IN ('r', 'p') "
            "ORDER BY n.nspname <> 'public', n.nspname LIMIT 1",
            (flyway.DEFAULT_HISTORY_TABLE,),
        ).fetchone()
        try:
            history = flyway.read_schema_history(conn, schema=str(located[0])) if located else []
        except psycopg.errors.InsufficientPrivilege:
            result.findings.append(
                Finding(
                    HISTORY,
                    f"{shown}: cannot read {flyway.DEFAULT_HISTORY_TABLE} "
                    "(permission denied); migration status not checked",
                    severity="warning",
                )
            )
            return
        finally:
            conn.rollback()
    if not history:
        result.findings.append(
            Finding(
                HISTORY,
                f"{shown} has no {flyway.DEFAULT_HISTORY_TABLE}: Flyway never migrated it",
                severity="warning",
            )
        )
        return
    _judge_history(compiled, migrations, history, shown, result)


def _judge_history(
    compiled: Compiled,
    migrations: list[MigrationScript],
    history: list[flyway.AppliedMigration],
    shown: str,
    result: CheckResult,
) -> None:
    """Applied migrations against generated/: failed, unknown, changed, pending, seeds."""
    prefix = _relative(compiled.settings.generated_dir, compiled.settings.root)
    files = {m.version: m for m in migrations}
    applied: dict[tuple[int, ...], flyway.AppliedMigration] = {}
    repeatable: dict[str, flyway.AppliedMigration] = {}
    failed: set[str] = set()
    baseline: tuple[int, ...] | None = None
    for row in history:
        if not row.success:
            failed.add(row.script)
            result.findings.append(
                Finding(
                    HISTORY,
                    f"{shown}: migration {row.script} failed (version "
                    f"{row.version}); repair the database and the history "
                    "(flyway repair) before migrating again",
                )
            )
            continue
        if row.version is None:
            if row.type == "SQL":
                repeatable[row.script] = row
            continue
        parsed = flyway.parse_migration_name(f"V{row.version.replace('.', '_')}__x.sql")
        if row.type == "BASELINE" and parsed is not None and parsed.version is not None:
            # `flyway baseline` (or baselineOnMigrate): the database was at this version
            # when it was adopted (docs/adopting.md); the migrations up to it never run there.
            baseline = max(baseline or parsed.version, parsed.version)
            continue
        if (
            parsed is None
            or parsed.version is None
            or row.type not in ("SQL", "JDBC", "SPRING_JDBC")
        ):
            continue
        applied[parsed.version] = row
    for version, row in sorted(applied.items()):
        script = files.get(version)
        if script is None:
            result.findings.append(
                Finding(
                    HISTORY,
                    f"{shown}: applied migration {row.script} (version "
                    f"{row.version}) is unknown: no such file in generated/",
                )
            )
            continue
        expected = flyway.checksum(script.text.encode("utf-8"))
        if row.checksum != expected:
            result.findings.append(
                Finding(
                    HISTORY,
                    f"{shown}: {script.name} was changed after it was applied (checksum {row.checksum} "
                    f"in the history, {expected} on disk)",
                    f"{prefix}/{script.relative_path}",
                    1,
                )
            )
    for version, script in sorted(files.items()):
        if baseline is not None and version <= baseline:
            continue
        if version not in applied and script.name not in failed:  # reported as failed already
            result.findings.append(
                Finding(
                    HISTORY,
                    f"{shown}: {script.name} is pending (not applied yet)",
                    f"{prefix}/{script.relative_path}",
                    1,
                )
            )
    seed_folder = compiled.settings.generated_dir / SEED_DIR
    if seed_folder.is_dir():
        for path in sorted(seed_folder.glob("R__*.sql")):
            seed_row = repeatable.get(path.name)
            if seed_row is None or seed_row.checksum != flyway.file_checksum(path):
                state = (
                    "pending (not applied yet)"
                    if seed_row is None
                    else "changed since it was applied (Flyway will run it again)"
                )
                result.findings.append(
                    Finding(
                        HISTORY,
                        f"{shown}: {path.name} is {state}",
                        f"{prefix}/{SEED_DIR}/{path.name}",
                        1,
                    )
                )
