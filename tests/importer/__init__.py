"""Tests of `schemac init` and `schemac import`: the round trip database -> YAML -> database."""
