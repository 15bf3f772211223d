"""schemac's own security rules, each reported at the YAML line of its object (real CLI)."""

from __future__ import annotations

from pathlib import Path

from lint.support import SHOP_YAML, findings, new_project

ISOLATION = (
    "organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid"
)


def _payments(rls: str, policies: str = "") -> str:
    return SHOP_YAML + (
        "  payments:\n"
        "    columns:\n"
        "      id: {type: bigint, identity: always, primary_key: true}\n"
        "      organization_id: {type: uuid, not_null: true}\n" + rls + policies
    )


def test_tenant_table_with_rls_off_is_an_error_at_its_line(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", _payments(""))
    document = project.lint_json(code=1)
    line = project.line_of("  payments:")
    for code in ("tenant-rls-disabled", "tenant-policy-missing"):
        [found] = findings(document, code)
        assert (found["file"], found["line"], found["column"]) == ("schema/01_shop.yaml", line, 3)
        assert found["severity"] == "error" and found["object"] == "shop.payments"
    assert not findings(document, "tenant-rls-not-forced")  # disabled says it already


def test_tenant_table_with_rls_unforced_is_an_error(tmp_path: Path) -> None:
    project = new_project(tmp_path / "p", _payments("    row_level_security: {enable: true}\n"))
    document = project.lint_json(code=1)
    [found] = findings(document, "tenant-rls-not-forced")
    assert found["line"] == project.line_of("  payments:")
    assert not findings(document, "tenant-rls-disabled")


def test_tenant_table_without_isolation_policy_and_with_one(tmp_path: Path) -> None:
    forced = "    row_level_security: {enable: true, force: true}\n"
    unsafe = new_project(
        tmp_path / "a",
        _payments(forced, '    policies:\n      mine: {command: all, using: "true AND true"}\n'),
    )
    document = unsafe.lint_json(code=1)
    assert [f["object"] for f in findings(document, "tenant-policy-missing")] == ["shop.payments"]
    # The same predicate written by hand, not by `tenant:`, is recognised from its parse tree;
    # an OR would let other tenants in, so it is not.
    safe = new_project(
        tmp_path / "b",
        _payments(forced, f'    policies:\n      mine: {{command: all, using: "{ISOLATION}"}}\n'),
    )
    assert safe.lint_json(code=0)["findings"] == []
    loose = new_project(
        tmp_path / "c",
        _payments(
            forced, f'    policies:\n      mine: {{command: all, using: "{ISOLATION} OR true"}}\n'
        ),
    )
    assert findings(loose.lint_json(code=1), "tenant-policy-missing")


def test_permissive_true_policy_on_tenant_table_opens_every_tenant(tmp_path: Path) -> None:
    policy = '    policies:\n      everyone: {command: select, using: "true"}\n'
    project = new_project(tmp_path / "p", SHOP_YAML + policy)
    [found] = findings(project.lint_json(code=1), "tenant-policy-broadened")
    assert found["line"] == project.line_of("everyone:")
    assert found["object"] == "shop.orders.everyone"
    # Restrictive policies are AND'ed with the isolation policy: no hazard.
    restrictive = (
        SHOP_YAML
        + '    policies:\n      everyone: {command: select, as: restrictive, using: "true"}\n'
    )
    assert new_project(tmp_path / "q", restrictive).lint_json(code=0)["findings"] == []


def test_a_table_in_a_tenant_schema_without_tenant_is_a_warning(tmp_path: Path) -> None:
    global_table = "  countries:\n    columns:\n      code: {type: text, primary_key: true}\n"
    project = new_project(tmp_path / "p", SHOP_YAML + global_table)
    document = project.lint_json(code=0)  # a warning does not fail
    [found] = findings(document, "tenant-schema-table-not-tenant")
    assert (found["severity"], found["line"]) == ("warning", project.line_of("  countries:"))


def test_security_definer_needs_a_pinned_search_path(tmp_path: Path) -> None:
    functions = (
        "functions:\n"
        "  whoami:\n"
        "    language: sql\n    returns: text\n    security: definer\n"
        "    body: SELECT current_user::text\n"
        "  pinned:\n"
        "    language: sql\n    returns: text\n    security: definer\n"
        '    set: {search_path: "pg_catalog, pg_temp"}\n'
        "    body: SELECT current_user::text\n"
        "  temp_first:\n"
        "    language: sql\n    returns: text\n    security: definer\n"
        "    set: {search_path: shop}\n"
        "    body: SELECT current_user::text\n"
    )
    project = new_project(tmp_path / "p", SHOP_YAML + functions)
    document = project.lint_json(code=1)
    [found] = findings(document, "definer-without-search-path")
    assert (found["object"], found["line"]) == ("shop.whoami", project.line_of("  whoami:"))
    [temp] = findings(document, "definer-search-path-temp-first")
    assert (temp["object"], temp["severity"]) == ("shop.temp_first", "warning")


def test_grant_to_public_is_flagged(tmp_path: Path) -> None:
    yaml = SHOP_YAML.replace("grants: {shop_app: [select, insert]}", "grants: {public: [select]}")
    project = new_project(tmp_path / "p", yaml)
    [found] = findings(project.lint_json(code=1), "grant-to-public")
    assert found["object"] == "shop.orders" and found["severity"] == "error"
    assert found["line"] == project.line_of("  orders:")


def test_materialized_view_of_tenant_rows_granted_to_a_role(tmp_path: Path) -> None:
    views = (
        "materialized_views:\n"
        "  order_totals:\n"
        "    query: SELECT organization_id, count(*) AS n FROM shop.orders GROUP BY organization_id\n"
        "    grants: {shop_app: [select]}\n"
        "views:\n"
        "  my_order_totals:\n"
        f"    query: SELECT * FROM shop.order_totals WHERE {ISOLATION}\n"
        "    grants: {shop_app: [select]}\n"
        "  all_order_totals:\n"
        "    query: SELECT * FROM shop.order_totals\n"
        "    grants: {shop_app: [select]}\n"
    )
    project = new_project(tmp_path / "p", SHOP_YAML + views)
    found = findings(project.lint_json(code=1), "tenant-matview-readable")
    # The filtering view is safe; the matview itself and the view that passes it on are not.
    assert sorted(f["object"] for f in found) == ["shop.all_order_totals", "shop.order_totals"]


def test_permissive_policy_that_ignores_the_tenant_is_a_warning(tmp_path: Path) -> None:
    policy = '    policies:\n      big_orders: {command: select, using: "total > 1000"}\n'
    project = new_project(tmp_path / "p", SHOP_YAML + policy)
    [found] = findings(project.lint_json(code=0), "tenant-policy-unscoped")
    assert (found["severity"], found["line"]) == ("warning", project.line_of("big_orders:"))
    # Tested together with the tenant, it admits nothing of another organisation.
    scoped = (
        SHOP_YAML
        + f'    policies:\n      big_orders: {{command: select, using: "total > 1000 AND {ISOLATION}"}}\n'
    )
    assert new_project(tmp_path / "q", scoped).lint_json(code=0)["findings"] == []


def test_a_global_table_acknowledged_by_object(tmp_path: Path) -> None:
    global_table = "  countries:\n    columns:\n      code: {type: text, primary_key: true}\n"
    settings = (
        "lint:\n  acknowledge:\n"
        "    - {rule: tenant-schema-table-not-tenant, object: shop.countries, reason: shared list}\n"
    )
    project = new_project(tmp_path / "p", SHOP_YAML + global_table, settings=settings)
    [found] = project.lint_json(code=0)["findings"]
    assert (found["code"], found["acknowledged"]) == (
        "tenant-schema-table-not-tenant",
        "shared list",
    )
