"""Fixtures of the safety tests: the school project of tests/diff (see diff/support.py)."""

from diff.support import baseline, database, dev_url, project, roles_restored

__all__ = ["baseline", "database", "dev_url", "project", "roles_restored"]
