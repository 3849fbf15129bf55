"""The sandbox tests' repository: one commit and a linked worktree where crewchief keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_helpers import git, make_repo


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", {"a.txt": "a\n"}, message="base")
    wt = root / ".crewchief" / "worktrees" / "w1"
    git(root, "worktree", "add", "-q", "--detach", str(wt), "HEAD")
    return wt
