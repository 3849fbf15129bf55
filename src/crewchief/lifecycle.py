"""Task and run lifecycles as explicit state machines. Every transition is a ledger event."""

from __future__ import annotations

from enum import StrEnum

from crewchief.errors import IllegalTransition


class TaskState(StrEnum):
    PLANNED = "planned"
    READY = "ready"
    RUNNING = "running"
    PRODUCED = "produced"
    VERIFIED = "verified"
    APPROVED = "approved"
    MERGED = "merged"
    REJECTED = "rejected"
    FAILED = "failed"
    BLOCKED = "blocked"
    CONFLICTED = "conflicted"
    CANCELLED = "cancelled"
    #: The worker found nothing to change: the task is done without a patch.
    NO_CHANGE = "no_change"


T = TaskState
TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    T.PLANNED: frozenset({T.READY, T.BLOCKED, T.CANCELLED}),
    # ready → blocked when a dependency fails; → failed when no attempt may start (budget).
    T.READY: frozenset({T.RUNNING, T.BLOCKED, T.CANCELLED, T.FAILED}),
    # running → ready: the run was interrupted; the attempt is abandoned and retried on resume.
    T.RUNNING: frozenset({T.PRODUCED, T.FAILED, T.READY, T.CANCELLED, T.NO_CHANGE}),
    # produced → ready: the reviewer asked for a revision (a new attempt carries the feedback).
    T.PRODUCED: frozenset({T.VERIFIED, T.READY, T.REJECTED, T.FAILED}),
    # verified → conflicted: no longer applies on the integration base; → rejected: a person said
    # no, or the full suite was bisected to this patch.
    T.VERIFIED: frozenset({T.APPROVED, T.REJECTED, T.CONFLICTED, T.CANCELLED}),
    T.APPROVED: frozenset({T.MERGED, T.REJECTED, T.CONFLICTED, T.CANCELLED}),
    T.CONFLICTED: frozenset({T.READY, T.CANCELLED}),
    # A person may send a rejected, failed or unchanged task back for another attempt.
    T.REJECTED: frozenset({T.READY}),
    T.FAILED: frozenset({T.READY}),
    T.NO_CHANGE: frozenset({T.READY}),
    T.BLOCKED: frozenset({T.READY, T.CANCELLED}),
    T.MERGED: frozenset(),
    T.CANCELLED: frozenset(),
}

#: Tasks whose patch passed the gate: it may land, or has.
TASK_ACCEPTED = frozenset({T.VERIFIED, T.APPROVED, T.MERGED})
#: Accepted tasks that have not landed yet.
TASK_TO_LAND = TASK_ACCEPTED - {T.MERGED}
#: Tasks that ended with nothing to land (until a person sends one back for another attempt).
TASK_DEAD = frozenset({T.REJECTED, T.FAILED, T.BLOCKED, T.CONFLICTED, T.CANCELLED})


class RunState(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    INTEGRATING = "integrating"
    AWAITING_APPROVAL = "awaiting_approval"
    MERGED = "merged"
    FAILED = "failed"
    CANCELLED = "cancelled"


R = RunState
RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    R.PLANNED: frozenset({R.RUNNING, R.CANCELLED}),
    R.RUNNING: frozenset({R.INTEGRATING, R.INTERRUPTED, R.FAILED, R.CANCELLED}),
    R.INTERRUPTED: frozenset({R.RUNNING, R.CANCELLED}),
    # integrating → cancelled: a person abandons a run whose driver was killed mid-integration.
    R.INTEGRATING: frozenset(
        {R.AWAITING_APPROVAL, R.INTERRUPTED, R.FAILED, R.RUNNING, R.CANCELLED}
    ),
    # awaiting_approval → integrating: a person rejected a task, the rest is rebuilt and re-tested.
    R.AWAITING_APPROVAL: frozenset(
        {R.MERGED, R.INTEGRATING, R.RUNNING, R.FAILED, R.CANCELLED, R.AWAITING_APPROVAL}
    ),
    R.FAILED: frozenset({R.RUNNING, R.INTEGRATING, R.CANCELLED}),
    R.MERGED: frozenset(),
    R.CANCELLED: frozenset(),
}


#: Runs nothing more can happen to: not resumed, not cancelled.
RUN_CLOSED = frozenset({R.MERGED, R.CANCELLED})
#: Runs whose driver has finished with them (a failed one until a person resumes it).
RUN_ENDED = RUN_CLOSED | {R.FAILED}
#: Runs with work left for a driver: what the page offers to resume. ``resume`` also takes a
#: run awaiting approval (with ``--yes`` it then approves and merges); only closed runs refuse.
RUN_WITH_WORK = frozenset(RunState) - RUN_CLOSED - {R.AWAITING_APPROVAL}


def check_task_transition(old: TaskState, new: TaskState) -> None:
    """Raise IllegalTransition unless ``old → new`` is in the task transition table."""
    if new not in TASK_TRANSITIONS[old]:
        raise IllegalTransition(f"task cannot go from {old} to {new}")


def check_run_transition(old: RunState, new: RunState) -> None:
    """Raise IllegalTransition unless ``old → new`` is in the run transition table."""
    if new not in RUN_TRANSITIONS[old]:
        raise IllegalTransition(f"run cannot go from {old} to {new}")
