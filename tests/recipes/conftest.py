"""Fixtures for the recipe tests: a repository from a dict of files, a worktree of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from crewchief.backends.base import WorkContext
from repo_helpers import make_repo

from .recipe_repos import KEEP_BYTES, RepoWith, WorktreeOf, add_worktree


@pytest.fixture
def repo_with(tmp_path: Path) -> RepoWith:
    """A function making a repository whose first commit holds exactly the given files."""
    return lambda files: make_repo(tmp_path / "repo", files, git_config=KEEP_BYTES)


@pytest.fixture
def worktree_of(tmp_path: Path) -> WorktreeOf:
    """A function adding a detached worktree of a repository at HEAD (optional timeout_s)."""

    def make(repo: Path, timeout_s: float = 30.0) -> WorkContext:
        return add_worktree(repo, tmp_path / "worktree", timeout_s)

    return make
