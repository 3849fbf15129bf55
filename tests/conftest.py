"""Fixtures for the spine's tests; the helpers live in ``repo_helpers`` (importable by name)."""

import os

from repo_helpers import cli, project

# Real model requests are refused in every test and in every process a test starts (the CLI, its
# workers): only scripted models answer here.
os.environ["CREWCHIEF_NO_MODEL_REQUESTS"] = "1"

__all__ = ["cli", "project"]
