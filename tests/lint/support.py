"""Small projects in temporary folders for the lint tests, and the real `schemac lint` on them."""

from __future__ import annotations

import json
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from command_line import run_schemac

GLOBAL_YAML = """\
roles:
  shop_app: {comment: The application.}
"""

# A tenant schema: orders is declared tenant, so every other table in `shop` is checked too.
SHOP_YAML = """\
schema: shop
grants: {shop_app: [usage]}
tables:
  orders:
    tenant: true
    columns:
      id: {type: bigint, identity: always, primary_key: true}
      organization_id: {type: uuid, not_null: true}
      total: {type: "numeric(10,2)", not_null: true}
      placed_at: {type: timestamptz, not_null: true, default: now()}
    grants: {shop_app: [select, insert]}
"""

SHOP_FILE = "schema/01_shop.yaml"


@dataclass
class LintProject:
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def append(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(text), "utf-8")

    def line_of(self, text: str, relative: str = SHOP_FILE) -> int:
        """The 1-based line of the one line of a file that contains `text`."""
        lines = (self.root / relative).read_text(encoding="utf-8").splitlines()
        found = [i + 1 for i, line in enumerate(lines) if text in line]
        assert len(found) == 1, f"{text!r} is on lines {found} of {relative}"
        return found[0]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_schemac(*args, cwd=self.root)

    def lint_json(self, *args: str, code: int | None = None) -> dict[str, Any]:
        result = self.run("lint", "--format", "json", *args)
        if code is not None:
            assert result.returncode == code, (
                f"exit {result.returncode}, expected {code}\n{result.stdout}\n{result.stderr}"
            )
        document: dict[str, Any] = json.loads(result.stdout)
        assert document["exit_code"] == result.returncode
        return document


def new_project(root: Path, shop_yaml: str = SHOP_YAML, settings: str = "") -> LintProject:
    root.mkdir(parents=True, exist_ok=True)
    project = LintProject(root)
    project.write("schemac.yaml", settings or "version_width: 3\n")
    project.write("schema/00_global.yaml", GLOBAL_YAML)
    project.write(SHOP_FILE, shop_yaml)
    return project


def findings(document: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in document["findings"] if f["code"] == code]
