"""schemac.yaml's `privileges:` block: checked like every other setting, at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemac.errors import InvalidInput
from schemac.project import load_settings


def _settings_errors(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "schemac.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        load_settings(tmp_path)
    return [
        f"{d.code} {d.location.line if d.location else '-'} {d.message}"
        for d in raised.value.diagnostics
    ]


def test_default_is_to_revoke_public_from_definers(tmp_path: Path) -> None:
    (tmp_path / "schemac.yaml").write_text("{}\n", encoding="utf-8")
    assert load_settings(tmp_path).privileges.definer_revoke_public is True
    (tmp_path / "schemac.yaml").write_text(
        "privileges:\n  definer_revoke_public: false\n", encoding="utf-8"
    )
    assert load_settings(tmp_path).privileges.definer_revoke_public is False


def test_wrong_values_and_keys_are_reported_at_their_line(tmp_path: Path) -> None:
    assert _settings_errors(tmp_path, "privileges:\n  definer_revoke_public: sometimes\n") == [
        "E201 2 'privileges.definer_revoke_public' must be true or false"
    ]
    errors = _settings_errors(tmp_path, "privileges:\n  definer_revoke_publik: true\n")
    assert errors == ["E103 2 unknown key 'definer_revoke_publik'"]
    assert _settings_errors(tmp_path, "privileges: [x]\n") == [
        "E201 1 'privileges' must be a mapping (definer_revoke_public)"
    ]
