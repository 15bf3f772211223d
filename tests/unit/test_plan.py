"""The typed plan from staged statements, without a database: stages, locks and hazards."""

from __future__ import annotations

from schemac.locks import Lock
from schemac.online import Before, MigrationSettings, Stage, stage_statements
from schemac.plan import operations

BEFORE = Before({("s", "t"): "r", ("s", "u"): "r", ("s", "p"): "p"}, frozenset({("s", "t", "c")}))
TYPES = ({("s", "t", "c"): "integer"}, {("s", "t", "c"): "bigint"})


ONLINE = MigrationSettings()


def _codes(
    statements: list[str], settings: MigrationSettings = ONLINE
) -> list[tuple[Stage, set[str]]]:
    planned = operations(stage_statements(statements, BEFORE, settings), BEFORE, TYPES, frozenset())
    return [(o.stage, {h.code for h in o.hazards}) for o in planned]


def test_validate_after_an_access_exclusive_in_the_same_file_scans_under_it() -> None:
    statements = [
        'alter table "s"."t" add constraint "k" CHECK ((c > 0)) not valid;',
        'alter table "s"."t" validate constraint "k";',
    ]
    off = MigrationSettings(validate_constraints=False)
    assert _codes(statements, off) == [
        (Stage.MAIN, {"access-exclusive-lock"}),
        (Stage.MAIN, {"full-scan-under-lock"}),
    ]
    planned = operations(stage_statements(statements, BEFORE, off), BEFORE, TYPES, frozenset())
    assert planned[1].hazards[0].severity.value == "error"
    # online: the VALIDATE moves to the next file, where only SHARE UPDATE EXCLUSIVE is held
    online = operations(
        stage_statements(statements, BEFORE, MigrationSettings()), BEFORE, TYPES, frozenset()
    )
    assert [(o.stage, o.lock) for o in online] == [
        (Stage.MAIN, Lock.ACCESS_EXCLUSIVE),
        (Stage.VALIDATE, Lock.SHARE_UPDATE_EXCLUSIVE),
    ]
    assert online[1].hazards[0].severity.value == "info"


def test_index_on_new_table_stays_and_on_partitioned_table_blocks() -> None:
    assert _codes(["create table s.n (a int);", "CREATE INDEX n_a ON s.n USING btree (a);"]) == [
        (Stage.MAIN, set()),
        (Stage.MAIN, set()),
    ]
    assert _codes(["CREATE INDEX p_a ON s.p USING btree (a);"]) == [
        (Stage.MAIN, {"index-build-blocks-writes"})
    ]
    assert _codes(["CREATE INDEX t_c ON s.t USING btree (c);"]) == [(Stage.INDEX, {"index-build"})]


def test_a_key_of_an_existing_table_is_built_online() -> None:
    """Its unique index CONCURRENTLY in a file of its own, the key added from it after every
    other stage (a leaf partition is a plain table: the same plan)."""
    statements = [
        "CREATE UNIQUE INDEX t_c_key ON s.t USING btree (c);",
        'alter table "s"."t" add constraint "t_c_key" UNIQUE using index "t_c_key";',
    ]
    assert [stage for stage, _ in _codes(statements)] == [Stage.INDEX, Stage.KEYS]
    primary = [
        "CREATE UNIQUE INDEX t_pkey ON s.t USING btree (c);",
        'alter table "s"."t" add constraint "t_pkey" PRIMARY KEY using index "t_pkey";',
    ]
    assert [stage for stage, _ in _codes(primary)] == [Stage.INDEX, Stage.KEYS]


def test_an_index_a_constraint_uses_stays_in_the_migration_when_it_must() -> None:
    statements = [
        "CREATE UNIQUE INDEX t_c_key ON s.t USING btree (c);",
        'alter table "s"."t" add constraint "t_c_key" UNIQUE using index "t_c_key";',
    ]
    # a foreign key of the plan may need it before a later file builds it
    foreign = 'alter table "s"."t" add constraint "t_fk" FOREIGN KEY (c) REFERENCES s.t (c);'
    assert [stage for stage, _ in _codes([*statements, foreign])][:2] == [Stage.MAIN, Stage.MAIN]
    # a replica identity of the plan may name it (`schemac diff` sets identities after migra)
    identity = 'ALTER TABLE "s"."t" REPLICA IDENTITY USING INDEX "t_c_key";'
    assert [stage for stage, _ in _codes([*statements, identity])][:2] == [Stage.MAIN, Stage.MAIN]
    # another statement names the index
    renamed = 'alter index "s"."t_c_key" set (fillfactor = 90);'
    assert [stage for stage, _ in _codes([*statements, renamed])][:2] == [Stage.MAIN, Stage.MAIN]
    # a partitioned table (PostgreSQL cannot build its index concurrently)
    created = [
        "CREATE UNIQUE INDEX p_c_key ON s.p USING btree (c);",
        'alter table "s"."p" add constraint "p_c_key" UNIQUE using index "p_c_key";',
    ]
    assert [stage for stage, _ in _codes(created)] == [Stage.MAIN, Stage.MAIN]


def test_type_change_rewrites_and_grant_changes_authorisation() -> None:
    planned = operations(
        stage_statements(
            [
                'alter table "s"."t" alter column "c" set data type bigint using "c"::bigint;',
                'grant select on table "s"."t" to "r";',
            ],
            BEFORE,
            MigrationSettings(),
        ),
        BEFORE,
        TYPES,
        frozenset(),
    )
    assert planned[0].rewrites and planned[0].lock is Lock.ACCESS_EXCLUSIVE
    assert {h.code for h in planned[0].hazards} == {"access-exclusive-lock", "table-rewrite"}
    assert planned[1].changes_authorisation and planned[1].lock is Lock.NONE
    assert {h.code for h in planned[1].hazards} == {"authorization-change"}
