"""The real Flyway (through Maven) for the adoption tests: see tests/flyway/conftest.py."""

from flyway.conftest import flyway

__all__ = ["flyway"]
