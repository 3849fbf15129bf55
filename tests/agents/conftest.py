"""The ``repo`` fixture: a real repository with a worktree laid out as crewchief lays it out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_harness import Repo, agent_repo


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    made = agent_repo(tmp_path)
    yield made
    for pid in made.leftovers():  # never leave a stray process behind, even when a test fails
        os.kill(pid, 9)
