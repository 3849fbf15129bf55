"""Fixtures for the spine's tests; the helpers live in ``repo_helpers`` (importable by name)."""

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_helpers import cli, project

# Real model requests are refused in every test and in every process a test starts (the CLI, its
# workers): only scripted models answer here.
os.environ["CREWCHIEF_NO_MODEL_REQUESTS"] = "1"

# A suite started in the background of a non-interactive shell (``make test &``, a CI step run so)
# inherits SIGINT ignored, and so would every crewchief it starts: the Ctrl-C tests would then
# interrupt nothing. The processes the tests start get Python's usual Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

__all__ = ["cli", "project", "signal_dir"]


@pytest.fixture
def signal_dir() -> Iterator[Path]:
    """A directory a sandboxed worker can see (read-only): the sandbox gives every worker a
    private /tmp, so a marker file a test creates under its tmp_path is invisible there."""
    path = Path(tempfile.mkdtemp(prefix="crewchief-test-signal-", dir="/var/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
