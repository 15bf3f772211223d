"""Fixtures of the diff tests: see support.py."""

from diff.support import baseline, database, dev_url, project, roles_restored

__all__ = ["baseline", "database", "dev_url", "project", "roles_restored"]
