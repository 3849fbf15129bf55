"""Abandoning a run: its tasks and itself end as cancelled, its integration ref and any worktree
a dead driver left behind are removed; the ledger keeps every event of it."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import JsonValue

from crewchief import git
from crewchief.attempts.workspace import crewchief_dir
from crewchief.errors import UserError
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RUN_CLOSED, TASK_TRANSITIONS, RunState, TaskState
from crewchief.merge import integrate
from crewchief.run.runlock import run_lock


@dataclass(frozen=True)
class Cancelled:
    run_id: str
    tasks: tuple[str, ...]
    worktrees_removed: int
    ref_removed: bool


def cancel_run(repo: Path, ledger: Ledger, run_id: str, who: str) -> Cancelled:
    """Cancel ``run_id`` (UserError when it merged, is cancelled, or another process drives it).

    The user's branches are never touched: only ``refs/crewchief/runs/<run>`` goes.
    """
    state = ledger.run(run_id).state
    if state in RUN_CLOSED:
        raise UserError(f"run {run_id} is {state}: nothing to cancel")
    with run_lock(repo, run_id):
        tasks: list[JsonValue] = []
        for task_id, st in ledger.task_states(run_id).items():
            if TaskState.CANCELLED in TASK_TRANSITIONS[st]:
                ledger.set_task_state(run_id, task_id, TaskState.CANCELLED, who=who)
                tasks.append(task_id)
        ref = integrate.run_ref(run_id)
        had_ref = git.rev_parse(repo, ref) is not None
        if had_ref:
            git.run(["update-ref", "-d", ref], repo)
        removed = remove_idle_worktrees(repo)
        ledger.event(run_id, "run_cancelled", {"who": who, "tasks": tasks})
        ledger.set_run_state(run_id, RunState.CANCELLED, who=who)
    return Cancelled(run_id, tuple(str(t) for t in tasks), removed, had_ref)


def remove_idle_worktrees(repo: Path) -> int:
    """Remove crewchief's pooled worktrees that no live process holds (a killed driver's);
    the number removed. One in use by another run is left alone."""
    root = crewchief_dir(repo) / "worktrees"
    removed = 0
    for lock in sorted(root.glob("wt-*.lock")) if root.is_dir() else []:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            path = lock.with_suffix("")
            if path.exists():
                git.run(["worktree", "remove", "--force", "--force", str(path)], repo, check=False)
                removed += 1
        finally:
            os.close(fd)
    git.run(["worktree", "prune"], repo, check=False)
    return removed
