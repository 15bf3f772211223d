"""Fixtures of the external-object tests: see diff/support.py."""

from diff.support import database, dev_url

__all__ = ["database", "dev_url"]
