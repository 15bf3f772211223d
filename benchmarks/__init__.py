"""Benchmarks of schemac: a synthetic project generator and the `make bench` runner."""
