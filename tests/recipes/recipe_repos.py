"""Helpers for the recipe tests: worktrees of the repositories ``repo_helpers`` builds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crewchief.backends.base import WorkContext
from repo_helpers import Files, git

#: What a recipe repository's own config says: git keeps the bytes a test wrote (CRLF files
#: included) whatever the user's global ``core.autocrlf``, in the repository and its worktrees.
KEEP_BYTES = {"core.autocrlf": "false"}

RepoWith = Callable[[Files], Path]
WorktreeOf = Callable[..., WorkContext]
ChangedFiles = Callable[[WorkContext], list[str]]


def add_worktree(repo: Path, worktree: Path, timeout_s: float = 30.0) -> WorkContext:
    """A detached worktree of ``repo`` at HEAD, as a worker gets it."""
    git(repo, "worktree", "add", "-q", "--detach", str(worktree), "HEAD")
    head = git(repo, "rev-parse", "HEAD")
    return WorkContext(worktree=worktree, base_commit=head, attempt_id="a1", timeout_s=timeout_s)


def changed_files(ctx: WorkContext) -> list[str]:
    """Files changed or added in a worker's worktree since its base commit (sorted)."""
    out = git(ctx.worktree, "status", "--porcelain", "--untracked-files=all", strip=False)
    return sorted(line[3:] for line in out.splitlines())
