"""Real git repositories in temp dirs for the recipe tests, built with the git CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from crewchief.backends.base import WorkContext

_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@localhost", "-c", "core.autocrlf=false"]

MakeRepo = Callable[[Mapping[str, str | bytes]], Path]
MakeWorktree = Callable[[Path], WorkContext]


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; stdout as text; fail the test on error."""
    proc = subprocess.run(
        ["git", *_IDENTITY, *args], cwd=repo, capture_output=True, check=True, text=True
    )
    return proc.stdout


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode())


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """A function making a repository whose first commit holds exactly ``files``."""

    def make(files: Mapping[str, str | bytes]) -> Path:
        repo = tmp_path / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        write_files(repo, files)
        git(repo, "add", "--all")
        git(repo, "commit", "-q", "-m", "initial")
        return repo

    return make


@pytest.fixture
def make_worktree(tmp_path: Path) -> MakeWorktree:
    """A function adding a detached worktree of ``repo`` at HEAD, as a worker would get it."""

    def make(repo: Path, timeout_s: float = 30.0) -> WorkContext:
        worktree = tmp_path / "worktree"
        git(repo, "worktree", "add", "-q", "--detach", str(worktree), "HEAD")
        head = git(repo, "rev-parse", "HEAD").strip()
        return WorkContext(
            worktree=worktree, base_commit=head, attempt_id="a1", timeout_s=timeout_s
        )

    return make


def _changed_files(ctx: WorkContext) -> list[str]:
    out = git(ctx.worktree, "status", "--porcelain", "--untracked-files=all")
    return sorted(line[3:] for line in out.splitlines())


@pytest.fixture
def changed_files() -> Callable[[WorkContext], list[str]]:
    """A function listing the files a worker changed in its worktree (sorted)."""
    return _changed_files
