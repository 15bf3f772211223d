"""The analyser's node keys: a kind's prefix and the object's name parts.

Names may hold any character PostgreSQL accepts but NUL, dots and colons included, so the
parts are joined with NUL: the tables ("a.b", "c") and ("a", "b.c") get two keys, where the
label a message shows (``a.b.c``) is the same for both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schemac.model import QName

_SEPARATOR = "\x00"  # the one character no PostgreSQL identifier may contain


def node_key(prefix: str, *parts: str | QName) -> str:
    """The key of the object named by ``parts`` (a QName counts as its schema and name)."""
    names: list[str] = []
    for part in parts:
        if isinstance(part, str):
            names.append(part)
        else:
            names += (part.schema, part.name)
    return prefix + ":" + _SEPARATOR.join(names)


def key_label(key: str) -> str:
    """The object's name as messages and generated comments show it: its parts joined by dots."""
    return key.split(":", 1)[1].replace(_SEPARATOR, ".")


def key_parts(key: str) -> list[str]:
    """The name parts of ``key`` (the inverse of :func:`node_key`, without the prefix)."""
    return key.split(":", 1)[1].split(_SEPARATOR)
