"""Fixtures of the `diff --db` tests: see diff/support.py."""

from diff.support import baseline, database, dev_url, project

__all__ = ["baseline", "database", "dev_url", "project"]
