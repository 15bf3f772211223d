"""schemac: a declarative schema-as-code compiler for PostgreSQL."""

from __future__ import annotations

__version__ = "0.1.0"
