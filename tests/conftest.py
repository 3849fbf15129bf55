"""Fixtures for the spine's tests; the helpers live in ``repo_helpers`` (importable by name)."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_helpers import cli, project

# Real model requests are refused in every test and in every process a test starts (the CLI, its
# workers): only scripted models answer here.
os.environ["CREWCHIEF_NO_MODEL_REQUESTS"] = "1"

__all__ = ["cli", "project", "signal_dir"]


@pytest.fixture
def signal_dir() -> Iterator[Path]:
    """A directory a sandboxed worker can see (read-only): the sandbox gives every worker a
    private /tmp, so a marker file a test creates under its tmp_path is invisible there."""
    path = Path(tempfile.mkdtemp(prefix="crewchief-test-signal-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
