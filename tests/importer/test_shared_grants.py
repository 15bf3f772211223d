"""What every object of a unit grants is written once, in the `*_grants` section of its
kinds (`Kind.grants_section`), and not again on each object."""

from __future__ import annotations

from pathlib import Path

import psycopg
import yaml

from schemac.importer import render_import
from schemac.project import load_settings

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def test_grants_every_table_and_view_shares_go_to_table_grants(
    empty_db: str, tmp_path: Path
) -> None:
    with psycopg.connect(empty_db, autocommit=True) as connection:
        connection.execute((SCHEMAS / "shop.sql").read_text(encoding="utf-8"))
    (tmp_path / "schemac.yaml").write_text("version_width: 3\n", encoding="utf-8")
    files, _ = render_import(load_settings(tmp_path), empty_db)
    catalog = yaml.safe_load(files["01_catalog_data.yaml"])
    assert catalog["table_grants"] == {"shop_reader": ["select"]}
    relations = [*catalog["tables"].values(), *(catalog.get("views") or {}).values()]
    assert relations
    for relation in relations:
        assert "shop_reader" not in relation.get("grants", {})
    orders = yaml.safe_load(files["02_orders.yaml"])
    assert orders["table_grants"] == {"shop_app": ["select", "insert"]}
