"""``export``: a run's integration commits as a branch of the user's repository (and a remote),
so a team can open a pull request with the run's report as its description. The commits are the
integration commits themselves, trailers and all; nothing is rebuilt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crewchief import git
from crewchief.errors import RunError, UserError
from crewchief.ledger.store import Ledger

ZERO = "0" * 40


@dataclass(frozen=True)
class Exported:
    """``branch`` points at ``commit``, the tip of ``commits`` (base first); ``remote`` is where
    it was pushed, if anywhere."""

    branch: str
    commit: str
    commits: tuple[str, ...]
    remote: str | None


def export(
    repo: Path, ledger: Ledger, run_id: str, branch: str, remote: str | None = None
) -> Exported:
    """Create ``branch`` at the run's integration commit (a branch that exists already must
    point there) and push it to ``remote``. UserError before anything changes."""
    run = ledger.run(run_id)
    tip, base = run.integration_commit, run.base_commit
    if tip is None:
        raise UserError(f"run {run_id} has no integration commit yet: nothing to export")
    if git.run(["check-ref-format", "--branch", branch], repo, check=False).returncode != 0:
        raise UserError(f"{branch!r} is not a valid branch name")
    ref = f"refs/heads/{branch}"
    current = git.rev_parse(repo, ref)
    if current is not None and current != tip:
        raise UserError(
            f"branch {branch} exists at {current[:12]}, not at run {run_id}'s integration "
            f"commit {tip[:12]}: choose another name"
        )
    if current is None:
        git.run(["update-ref", "-m", f"crewchief export {run_id}", ref, tip, ZERO], repo)
    commits = tuple(git.out(["rev-list", "--reverse", f"{base}..{tip}"], repo).split())
    if remote is not None:
        proc = git.run(["push", "--quiet", remote, f"{ref}:{ref}"], repo, check=False)
        if proc.returncode != 0:
            raise RunError(
                f"push of {branch} to {remote} failed (the local branch exists): "
                f"{proc.stderr.decode(errors='replace').strip()}"
            )
    return Exported(branch, tip, commits, remote)
