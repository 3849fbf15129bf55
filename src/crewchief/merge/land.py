"""The human gate and the landing: per-task decisions, then one compare-and-swap move of the
target branch to the tested integration commit. Nothing else ever touches the user's branches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import JsonValue

from crewchief import git
from crewchief.config import Config
from crewchief.errors import RunError, UserError
from crewchief.gate.patchfile import parse, path_text
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.merge.reconcile import (
    descends,
    landing,
    reconcile,
    record_landed,
    record_merged,
    unlanded,
)
from crewchief.records import Verdict

S = TaskState


def decide(
    ledger: Ledger, run_id: str, task_id: str, approve: bool, who: str, comment: str = ""
) -> None:
    """A person's approve or reject of one verified task, recorded with who and when."""
    states = ledger.task_states(run_id)
    if task_id not in states:
        raise UserError(f"run {run_id} has no task {task_id}")
    if states[task_id] != S.VERIFIED:
        raise UserError(
            f"task {task_id} is {states[task_id]}; only verified tasks await a decision"
        )
    ledger.set_task_state(run_id, task_id, S.APPROVED if approve else S.REJECTED, who=who)
    ledger.record_approval(run_id, task_id, "approve" if approve else "reject", who, comment)
    _fail_if_nothing_left(ledger, run_id)


def _fail_if_nothing_left(ledger: Ledger, run_id: str) -> None:
    """A run at the gate whose every task was rejected ends: nothing can ever merge."""
    if ledger.run(run_id).state != RunState.AWAITING_APPROVAL:
        return
    if any(s in (S.VERIFIED, S.APPROVED) for s in ledger.task_states(run_id).values()):
        return
    ledger.set_run_state(
        run_id, RunState.FAILED, reason="every task was rejected at the gate: nothing to merge"
    )


def person_reasons(ledger: Ledger, run_id: str, task_id: str, cfg: Config) -> list[str]:
    """Why ``task_id`` needs an explicit human decision (empty: ``--yes`` may approve it)."""
    task = ledger.plan(run_id).task(task_id)
    attempt = ledger.accepted_attempt(run_id, task_id)
    result = ledger.result(attempt) if attempt else None
    touched = _patch_paths(result.patch) if result else []
    from crewchief.gate.verify import needs_person  # the gate's weight: not for status

    return needs_person(task, touched, cfg.protected_paths)


def _patch_paths(patch: bytes) -> list[str]:
    return [path_text(p) for f in parse(patch) for p in f.paths()]


def approve_all(ledger: Ledger, run_id: str, cfg: Config, who: str) -> list[str]:
    """Approve every verified task that needs no person; return the ids left for a person."""
    left = []
    for task_id, state in ledger.task_states(run_id).items():
        if state != S.VERIFIED:
            continue
        if person_reasons(ledger, run_id, task_id, cfg):
            left.append(task_id)
        else:
            decide(ledger, run_id, task_id, True, who, "approved with --yes/--approve-all")
    return left


@dataclass(frozen=True)
class Landing:
    target: str
    old: str
    new: str
    how: str


def check_mergeable(ledger: Ledger, run_id: str) -> set[str]:
    """The approved task ids, if the run may merge once they are integrated; else UserError."""
    state = ledger.run(run_id).state
    if state != RunState.AWAITING_APPROVAL:
        raise UserError(f"run {run_id} is {state}, not awaiting approval")
    states = ledger.task_states(run_id)
    undecided = [t for t, s in states.items() if s == S.VERIFIED]
    if undecided:
        raise UserError(
            f"{len(undecided)} task(s) still await a decision: "
            f"{', '.join(undecided)} (crewchief review {run_id})"
        )
    approved = {t for t, s in states.items() if s == S.APPROVED}
    if not approved:
        raise UserError(f"run {run_id} has no approved task to merge")
    return approved


def merge_run(repo: Path, ledger: Ledger, run_id: str, cfg: Config, who: str) -> Landing:
    """The whole ``merge`` action: approvals complete, integration rebuilt and re-tested if a
    person rejected part of it, then the compare-and-swap landing. A landing interrupted
    earlier is settled first (``reconcile``)."""
    if reconcile(repo, ledger, run_id) == "merged":
        run = ledger.run(run_id)
        target, base, tip = run.target_branch, run.base_commit, run.integration_commit
        assert tip is not None  # a merge was recorded: it had an integration commit
        return Landing(target, base, tip, "recorded: it had landed before an interruption")
    approved = check_mergeable(ledger, run_id)
    if not _is_tested_build(ledger, run_id, approved):
        from crewchief.attempts.executor_choice import (
            make_executor,  # the driver's weight, for merge only
        )
        from crewchief.run.orchestrate import Orchestrator

        orchestrator = Orchestrator(repo, ledger, cfg, make_executor(cfg))
        state = orchestrator.rebuild(run_id, approved)
        if state != RunState.AWAITING_APPROVAL:
            raise RunError(
                f"the integration of the approved tasks is not green (run {run_id} is "
                f"{state}: {_last_reason(ledger, run_id)}); nothing was merged. "
                f"Next: {_next_command(ledger, run_id)}"
            )
        check_mergeable(ledger, run_id)
    return land(repo, ledger, run_id, who)


def _is_tested_build(ledger: Ledger, run_id: str, approved: set[str]) -> bool:
    """Whether the run's integration commit is exactly the approved tasks not landed yet (by
    ``merge --ready``), with a green suite."""
    return unlanded(ledger, run_id) == approved and bool(ledger.run(run_id).suite_passed)


def _last_reason(ledger: Ledger, run_id: str) -> str:
    events = [e for e in ledger.event_records(run_id) if e.kind == "run_state"]
    reason = events[-1].data.get("reason") if events else None
    return str(reason).splitlines()[0] if reason else "see its status"


def _next_command(ledger: Ledger, run_id: str) -> str:
    """The one command that moves a run that could not merge forward."""
    state = ledger.run(run_id).state
    if state == RunState.INTERRUPTED:
        return f"fix the cause, then crewchief resume {run_id}"
    if any(s == S.VERIFIED for s in ledger.task_states(run_id).values()):
        return f"crewchief review {run_id}"
    return f"crewchief status {run_id}, then crewchief cancel {run_id} to abandon it"


def send_back(ledger: Ledger, run_id: str, task_id: str, who: str, comment: str) -> None:
    """Reject ``task_id`` (or take one the gate rejected) and queue another attempt with
    ``comment`` as its added instruction; the run goes back to running (drive it with
    ``crewchief resume``)."""
    if not comment.strip():
        raise UserError("sending a task back needs a comment: it becomes the next instruction")
    if ledger.task_states(run_id).get(task_id) == S.REJECTED:
        # Refused by the gate (a secret, a deceptive path, …): nothing to decide, only to redo.
        if ledger.run(run_id).state in (RunState.MERGED, RunState.CANCELLED):
            raise UserError(f"run {run_id} is over; start a new run for task {task_id}")
        ledger.record_approval(run_id, task_id, "reject", who, comment)
    else:
        decide(ledger, run_id, task_id, False, who, comment)
    attempts = ledger.attempts(run_id, task_id)
    verdict = Verdict(
        decision="revise", reviewer=f"person:{who}", reasons=("sent back",), feedback=comment
    )
    ledger.record_verdict(run_id, task_id, attempts[-1].id, verdict)
    ledger.set_task_state(run_id, task_id, S.READY, reason="sent back by a person", who=who)
    ledger.set_run_state(run_id, RunState.RUNNING, reason=f"{task_id} sent back")


def land(repo: Path, ledger: Ledger, run_id: str, who: str) -> Landing:
    """Move the target branch from the run's base to its green, approved integration commit
    (holding the run's landing lock: UserError if another process is landing it)."""
    with landing(repo, run_id):
        return _land(repo, ledger, run_id, who)


def _land(repo: Path, ledger: Ledger, run_id: str, who: str) -> Landing:
    run = ledger.run(run_id)
    tip, target = run.integration_commit, run.target_branch
    from crewchief.merge.queue import landed_commit  # the queue's weight: landing only

    base = landed_commit(ledger, run_id)  # the run's base, or where merge --ready left it
    approved = {t for t, s in ledger.task_states(run_id).items() if s == S.APPROVED}
    if (
        tip is None
        or unlanded(ledger, run_id) != approved
        or not run.suite_passed
        or not descends(repo, tip, base)
    ):
        raise RunError(
            f"run {run_id}: the integration commit is not the tested build of the "
            f"approved tasks; nothing was merged (`crewchief merge {run_id}` rebuilds and "
            "re-tests it)"
        )
    ref = f"refs/heads/{target}"
    current = git.rev_parse(repo, ref)
    if current != base:
        raise RunError(
            f"{target} moved from {base[:12]} to {(current or 'nothing')[:12]} since run {run_id} "
            f"started; nothing was changed. Start a new run on the current {target}."
        )
    # The intent is in the ledger before the branch moves: a kill between the two is
    # reconciled from it (``reconcile``), never left as a merge nobody recorded.
    intent = {"target": target, "from_commit": base, "to_commit": tip, "who": who}
    ledger.event(run_id, "merge_intent", {**intent, "state": "intended"})
    try:
        how = _move(repo, ref, tip, base)
    except BaseException:
        if git.rev_parse(repo, ref) == base:
            ledger.event(run_id, "merge_intent", {**intent, "state": "void"})
        raise
    record_merged(ledger, run_id, approved, intent, how)
    return Landing(target, base, tip, how)


def merge_ready(repo: Path, ledger: Ledger, run_id: str, cfg: Config, who: str) -> Landing:
    """Land the green, approved prefix of the run's integration while the run goes on.

    The prefix ends at the furthest commit of the newest integration build that the suite
    passed and whose tasks (not landed yet) are all approved or approvable without a person;
    those are approved, the target branch moves there by compare-and-swap from where this run
    last left it, and they are merged. The rest of the run goes on on top of it. UserError
    saying what stands in the way when nothing is ready; never waits, never loops. Holds the
    run's landing lock (UserError if another process is landing it).
    """
    with landing(repo, run_id):
        return _merge_ready(repo, ledger, run_id, cfg, who)


def _merge_ready(repo: Path, ledger: Ledger, run_id: str, cfg: Config, who: str) -> Landing:
    state = ledger.run(run_id).state
    if state in (RunState.MERGED, RunState.CANCELLED, RunState.FAILED):
        raise UserError(f"run {run_id} is {state}: nothing to land")
    links, why = _ready_prefix(ledger, run_id, cfg)
    if not links:
        raise UserError(f"nothing in run {run_id} is ready to land: {why}")
    from crewchief.merge.queue import landed_commit

    run, old, tip = ledger.run(run_id), landed_commit(ledger, run_id), links[-1][1]
    ref = f"refs/heads/{run.target_branch}"
    if git.rev_parse(repo, ref) != old or not descends(repo, tip, old):
        raise RunError(
            f"{run.target_branch} is not where run {run_id} left it ({old[:12]}); "
            "nothing was changed"
        )
    for task_id, _ in links:
        if ledger.task_states(run_id)[task_id] == S.VERIFIED:
            decide(ledger, run_id, task_id, True, who, "approved with merge --ready")
    # As for a whole merge, the intent is recorded before the branch moves (``reconcile``).
    target = str(run.target_branch)
    intent = {"target": target, "from_commit": old, "to_commit": tip, "who": who}
    tasks: list[JsonValue] = [t for t, _ in links]
    ledger.event(run_id, "merge_intent", {**intent, "tasks": tasks, "state": "intended"})
    try:
        how = _move(repo, ref, tip, old)
    except BaseException:
        if git.rev_parse(repo, ref) == old:
            ledger.event(run_id, "merge_intent", {**intent, "tasks": tasks, "state": "void"})
        raise
    record_landed(ledger, run_id, [str(t) for t in tasks], intent)
    return Landing(target, old, tip, how)


def _ready_prefix(ledger: Ledger, run_id: str, cfg: Config) -> tuple[list[tuple[str, str]], str]:
    """(task, commit) of the landable prefix, or [] and what stands in the way."""
    states = ledger.task_states(run_id)
    green = {r.commit_id for r in ledger.checks(run_id) if r.kind == "suite" and r.passed}
    todo = [
        (str(r.task_id), str(r.commit_id))
        for r in ledger.integration_chain(run_id)
        if states[r.task_id] != S.MERGED
    ]
    why, ok = "no integrated work has passed the full suite yet", 0
    for i, (task_id, _) in enumerate(todo):
        needs = person_reasons(ledger, run_id, task_id, cfg)
        if states[task_id] != S.APPROVED and (states[task_id] != S.VERIFIED or needs):
            why = f"task {task_id} needs a decision first (crewchief review {run_id})"
            break
        ok = i + 1
    cut = max((i + 1 for i, (_, c) in enumerate(todo[:ok]) if c in green), default=0)
    return todo[:cut], why if cut == 0 else ""


def _move(repo: Path, ref: str, new: str, old: str) -> str:
    """Fast-forward the checkout that has ``ref`` checked out, or CAS-update the bare ref."""
    checkout = _checked_out_at(repo, ref)
    if checkout is None:
        git.run(["update-ref", "-m", "crewchief merge", ref, new, old], repo)
        return "compare-and-swap ref update"
    if git.run(["status", "--porcelain", "--untracked-files=no"], checkout).stdout:
        raise RunError(
            f"{checkout} has {ref.removeprefix('refs/heads/')} checked out with "
            "uncommitted changes; commit or stash them, then run merge again. "
            "Nothing was changed."
        )
    proc = git.run(["merge", "--ff-only", "--quiet", new], checkout, check=False)
    if proc.returncode != 0:
        raise RunError(
            f"fast-forward of {checkout} failed, nothing was changed: "
            f"{proc.stderr.decode(errors='replace').strip()}"
        )
    return f"fast-forward of the checkout at {checkout}"


def _checked_out_at(repo: Path, ref: str) -> Path | None:
    lines = git.out(["worktree", "list", "--porcelain"], repo).splitlines()
    path: Path | None = None
    for line in lines:
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
        elif line == f"branch {ref}":
            return path
    return None
