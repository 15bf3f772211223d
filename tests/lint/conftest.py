"""Fixtures of the lint tests: the session's PostgreSQL server as schemac's shadow server."""

from diff.support import dev_url

__all__ = ["dev_url"]
