"""Settling a landing that was interrupted, and the records of a landing: light enough for
``status`` (which settles an interrupted merge before it shows a run) to import without the gate.

A landing records its intent in the ledger before the target branch moves; a kill between the
two leaves an intent nobody settled, which :func:`reconcile` settles from what the branch holds.
The landing process holds the run's landing lock (:func:`landing`) from its checks to its record,
so an intent is only settled when no live process is landing the run: ``status`` on a run whose
``merge --ready`` is under way in another process leaves it alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from crewchief import git
from crewchief.errors import UserError
from crewchief.lifecycle import RunState, TaskState
from crewchief.run.runlock import try_landing_lock

if TYPE_CHECKING:
    from pydantic import JsonValue

    from crewchief.ledger.store import Ledger

S = TaskState


@contextmanager
def landing(repo: Path, run_id: str) -> Iterator[None]:
    """Held while this process lands ``run_id`` (its checks, intent, move and record); released
    with the process if it dies. UserError when another process is landing the run now."""
    fd = try_landing_lock(repo, run_id)
    if fd is None:
        raise UserError(f"run {run_id} is being landed by another crewchief process; try again")
    try:
        yield
    finally:
        os.close(fd)


def open_intent(ledger: Ledger, run_id: str) -> tuple[dict[str, str], list[str] | None] | None:
    """The run's last merge intent if it was never settled (recorded as merged, landed or
    void): (target, commits and who; the tasks of a ``merge --ready`` prefix, else None)."""
    if ledger.run(run_id).state == RunState.MERGED:
        return None
    intents = [e.data for e in ledger.event_records(run_id) if e.kind == "merge_intent"]
    if not intents or intents[-1].get("state") != "intended":
        return None
    tasks = intents[-1].get("tasks")
    fields = {k: str(v) for k, v in intents[-1].items() if k not in ("state", "tasks")}
    return fields, [str(t) for t in tasks] if isinstance(tasks, list) else None


def reconcile(repo: Path, ledger: Ledger, run_id: str) -> str | None:
    """Settle a merge that was interrupted between recording its intent and recording its
    outcome: "merged" when the target branch holds the integration commit (the move happened:
    the merge is recorded now), "void" when it does not (nothing was merged; merge again).
    None when there was nothing to settle, or a live process is landing the run now (its intent
    is its own, not a kill's)."""
    if open_intent(ledger, run_id) is None:
        return None
    fd = try_landing_lock(repo, run_id)
    if fd is None:
        return None
    try:
        return _settle(repo, ledger, run_id)
    finally:
        os.close(fd)


def _settle(repo: Path, ledger: Ledger, run_id: str) -> str | None:
    found = open_intent(ledger, run_id)  # read again under the lock: the lander may just be done
    if found is None:
        return None
    intent, prefix = found
    if prefix is not None:
        return _reconcile_prefix(repo, ledger, run_id, intent, prefix)
    run = ledger.run(run_id)  # the commits from the run itself, not from the event's text
    current = git.rev_parse(repo, f"refs/heads/{run.target_branch}")
    tip = run.integration_commit
    landed = tip is not None and (
        current == tip or (current is not None and descends(repo, current, tip))
    )
    if not landed:
        ledger.event(run_id, "merge_intent", {**intent, "state": "void"})
        return "void"
    approved = {t for t, s in ledger.task_states(run_id).items() if s in (S.APPROVED, S.MERGED)}
    record_merged(ledger, run_id, approved, intent, "reconciled after an interruption")
    return "merged"


def _reconcile_prefix(
    repo: Path, ledger: Ledger, run_id: str, intent: dict[str, str], tasks: list[str]
) -> str:
    """Settle an interrupted ``merge --ready``: "merged" when the target branch holds the
    prefix's commit (taken from the run's own integration build, not the event's text)."""
    built = {str(r.task_id): str(r.commit_id) for r in ledger.integration_chain(run_id)}
    tip = built.get(tasks[-1]) if tasks else None
    current = git.rev_parse(repo, f"refs/heads/{intent['target']}")
    landed = (
        tip is not None and current is not None and (current == tip or descends(repo, current, tip))
    )
    if not landed or tip is None:
        void: list[JsonValue] = list(tasks)
        ledger.event(run_id, "merge_intent", {**intent, "tasks": void, "state": "void"})
        return "void"
    record_landed(ledger, run_id, tasks, {**intent, "to_commit": tip})
    return "merged"


def record_merged(
    ledger: Ledger, run_id: str, tasks: set[str], intent: dict[str, str], how: str
) -> None:
    for task_id in sorted(tasks):
        if ledger.task_states(run_id)[task_id] != S.MERGED:
            ledger.set_task_state(run_id, task_id, S.MERGED)
    ledger.set_run_state(run_id, RunState.MERGED, **intent, how=how)


def record_landed(ledger: Ledger, run_id: str, tasks: list[str], intent: dict[str, str]) -> None:
    """A landed prefix in the ledger: its tasks merged, the landing, the intent settled; the
    run merged when that was all of it and it was at the gate."""
    for task_id in tasks:
        if ledger.task_states(run_id)[task_id] != S.MERGED:
            ledger.set_task_state(run_id, task_id, S.MERGED)
    landed: dict[str, JsonValue] = {
        "from": intent["from_commit"],
        "to": intent["to_commit"],
        "tasks": list(tasks),
        "who": intent["who"],
    }
    ledger.event(run_id, "landed", landed)
    ledger.event(run_id, "merge_intent", {**intent, "tasks": landed["tasks"], "state": "landed"})
    at_gate = ledger.run(run_id).state == RunState.AWAITING_APPROVAL
    if at_gate and not unlanded(ledger, run_id):
        ledger.set_run_state(run_id, RunState.MERGED, **intent)


def unlanded(ledger: Ledger, run_id: str) -> set[str]:
    """The tasks of the newest integration build that have not landed yet."""
    states = ledger.task_states(run_id)
    return {r.task_id for r in ledger.integration_chain(run_id) if states[r.task_id] != S.MERGED}


def descends(repo: Path, commit: str, ancestor: str) -> bool:
    """``commit`` is ``ancestor`` or has it in its history."""
    proc = git.run(["merge-base", "--is-ancestor", ancestor, commit], repo, check=False)
    return proc.returncode == 0
