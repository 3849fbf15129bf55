"""Fixtures for the spine's tests; the helpers live in ``repo_helpers`` (importable by name)."""

from repo_helpers import cli, project

__all__ = ["cli", "project"]
