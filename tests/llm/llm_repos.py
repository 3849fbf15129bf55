"""Helpers: real git repositories and worktrees in temp dirs, built with the git CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from crewchief.backends.base import WorkContext

Files = Mapping[str, str]
_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@localhost"]


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def commit_repo(path: Path, files: Files) -> Path:
    """A repository on branch main whose first commit holds exactly ``files``."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "--initial-branch=main")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def add_worktree(repo: Path, where: Path, timeout_s: float) -> WorkContext:
    """A detached worktree of ``repo`` at HEAD, wrapped as an attempt's WorkContext."""
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "worktree", "add", "-q", "--detach", str(where), base)
    return WorkContext(where, base, "attempt-1", timeout_s)


def diff(ctx: WorkContext) -> str:
    """Everything changed in the worktree since its base, as text."""
    git(ctx.worktree, "add", "-A")
    return git(ctx.worktree, "diff", "--cached", ctx.base_commit)


def changed(ctx: WorkContext) -> list[str]:
    git(ctx.worktree, "add", "-A")
    return git(ctx.worktree, "diff", "--cached", "--name-only", ctx.base_commit).split()
