"""Helpers for the LLM tests: worktrees of the repositories ``repo_helpers`` builds."""

from __future__ import annotations

from pathlib import Path

from crewchief.backends.base import WorkContext
from repo_helpers import git


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
