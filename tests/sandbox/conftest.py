"""The sandbox tests' repository: one commit and a linked worktree where crewchief keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from crewchief import git


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git.run(["init", "-q", "-b", "main"], root)
    (root / "a.txt").write_text("a\n")
    git.run(["add", "-A"], root)
    git.run(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"], root)
    wt = root / ".crewchief" / "worktrees" / "w1"
    git.run(["worktree", "add", "-q", "--detach", str(wt), "HEAD"], root)
    return wt
