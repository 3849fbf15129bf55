"""Provenance: for any line on a branch, the run, task, attempt, worker and exact instruction
behind it — ``git blame`` to the commit, the commit's trailers to the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crewchief import git
from crewchief.errors import UserError
from crewchief.ledger.store import Ledger


@dataclass(frozen=True)
class LineOrigin:
    """Where one line came from. ``run`` is None for lines crewchief did not write."""

    line: int
    text: str
    commit: str
    run: str | None = None
    task: str | None = None
    attempt: str | None = None
    worker: str | None = None
    model: str | None = None
    instruction_digest: str | None = None
    title: str | None = None
    instructions: str | None = None
    digest_matches: bool | None = None


def blame(repo: Path, path: str, rev: str, first: int, last: int | None) -> list[LineOrigin]:
    """Origins of lines ``first``..``last`` (1-based, inclusive; None = to the end) of ``path``."""
    span = f"{first},{last}" if last else f"{first},"
    proc = git.run(["blame", "--porcelain", "-L", span, rev, "--", path], repo, check=False)
    if proc.returncode != 0:
        raise UserError(
            f"cannot blame {path} at {rev}: {proc.stderr.decode(errors='replace').strip()}"
        )
    seen: dict[str, dict[str, str]] = {}
    ledger = _ledger(repo)
    origins = []
    for commit, line_no, text in _porcelain(proc.stdout.decode(errors="replace")):
        if commit not in seen:
            seen[commit] = trailers(repo, commit)
        origins.append(_origin(ledger, line_no, text, commit, seen[commit]))
    return origins


def _porcelain(out: str) -> list[tuple[str, int, str]]:
    rows = []
    commit, line_no = "", 0
    for line in out.splitlines():
        if line.startswith("\t"):
            rows.append((commit, line_no, line[1:]))
        elif len(line) > 40 and line[40] == " " and all(c in "0123456789abcdef" for c in line[:40]):
            commit, line_no = line[:40], int(line.split()[2])
    return rows


def trailers(repo: Path, commit: str) -> dict[str, str]:
    """The commit's ``Crewchief-*`` trailers ({} when git cannot read the commit)."""
    proc = git.run(
        ["log", "-1", "--format=%(trailers:only,unfold)", commit, "--"], repo, check=False
    )
    if proc.returncode != 0:
        return {}
    lines = proc.stdout.decode(errors="replace").splitlines()
    return dict(
        line.split(": ", 1) for line in lines if line.startswith("Crewchief-") and ": " in line
    )


def _ledger(repo: Path) -> Ledger | None:
    try:
        return Ledger.existing(repo)
    except UserError:
        return None


def _origin(
    ledger: Ledger | None, line_no: int, text: str, commit: str, t: dict[str, str]
) -> LineOrigin:
    run_id = t.get("Crewchief-Run")
    if run_id is None:
        return LineOrigin(line_no, text, commit)
    origin = LineOrigin(
        line_no,
        text,
        commit,
        run_id,
        t.get("Crewchief-Task"),
        t.get("Crewchief-Attempt"),
        t.get("Crewchief-Worker"),
        t.get("Crewchief-Model"),
        t.get("Crewchief-Instruction", "").removeprefix("sha256:") or None,
    )
    if ledger is None or origin.task is None:
        return origin
    try:
        task = ledger.plan(run_id).task(origin.task)
    except (UserError, KeyError):
        return origin
    return LineOrigin(
        **{
            **origin.__dict__,
            "title": task.title,
            "instructions": task.instructions,
            "digest_matches": task.instruction_digest() == origin.instruction_digest,
        }
    )
