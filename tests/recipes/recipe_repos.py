"""Helpers for the recipe tests: real git repositories in temp dirs, built with the git CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from crewchief.backends.base import WorkContext

_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@localhost", "-c", "core.autocrlf=false"]

Files = Mapping[str, str | bytes]
RepoWith = Callable[[Files], Path]
WorktreeOf = Callable[..., WorkContext]
ChangedFiles = Callable[[WorkContext], list[str]]


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; stdout as text; fail the test on error."""
    proc = subprocess.run(
        ["git", *_IDENTITY, *args], cwd=repo, capture_output=True, check=True, text=True
    )
    return proc.stdout


def write_files(root: Path, files: Files) -> None:
    """Write ``files`` (text as UTF-8, bytes as they are) below ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def commit_repo(repo: Path, files: Files) -> Path:
    """A new repository at ``repo`` whose first commit on main holds exactly ``files``."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, files)
    git(repo, "add", "--all")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def add_worktree(repo: Path, worktree: Path, timeout_s: float = 30.0) -> WorkContext:
    """A detached worktree of ``repo`` at HEAD, as a worker gets it."""
    git(repo, "worktree", "add", "-q", "--detach", str(worktree), "HEAD")
    head = git(repo, "rev-parse", "HEAD").strip()
    return WorkContext(worktree=worktree, base_commit=head, attempt_id="a1", timeout_s=timeout_s)


def changed_files(ctx: WorkContext) -> list[str]:
    """Files changed or added in a worker's worktree since its base commit (sorted)."""
    out = git(ctx.worktree, "status", "--porcelain", "--untracked-files=all")
    return sorted(line[3:] for line in out.splitlines())
