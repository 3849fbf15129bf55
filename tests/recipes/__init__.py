"""Tests of the deterministic recipes (a package, so its conftest does not shadow the root one)."""
