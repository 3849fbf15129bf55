"""The external reviewer: a host agent (through ``crewchief mcp``) reviews each patch as the
manager, and the run waits for its verdict instead of calling a model.

The driver and the host are different processes; the ledger is how they meet. For each patch
that passed the gate the driver appends ``review_requested`` (with the attempt), then waits
until a ``host_verdict`` event for that attempt appears; ``submit`` writes one. Mechanical
checks come first, as with every reviewer: a patch that failed them is rejected by the rules
and never shown to the host.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from crewchief.errors import UserError
from crewchief.ledger import Ledger
from crewchief.lifecycle import TaskState
from crewchief.records import CheckResult, Decision, Task, Verdict, WorkerResult
from crewchief.verify import RuleReviewer

_SAID = {"approve": "approved", "revise": "sent back for a revision", "reject": "rejected"}

#: How often the waiting driver looks at the ledger for the host's verdict.
POLL_S = 0.2


@dataclass
class ExternalReviewer:
    """Reviewer of one run whose verdicts come from a host agent, read from ``ledger``."""

    ledger: Ledger
    run_id: str
    name: str = "external"

    def review(self, task: Task, result: WorkerResult, checks: Sequence[CheckResult]) -> Verdict:
        """The rules' verdict when the gate failed; else the host's, waited for."""
        ruled = RuleReviewer().review(task, result, checks)
        if ruled.decision != "approve":
            return ruled
        attempt = self.ledger.attempts(self.run_id, task.id)[-1]["id"]
        self.ledger.event(self.run_id, "review_requested", {}, task_id=task.id, attempt_id=attempt)
        while True:
            verdict = host_verdict(self.ledger, self.run_id, attempt)
            if verdict is not None:
                return verdict
            time.sleep(POLL_S)


def host_verdict(ledger: Ledger, run_id: str, attempt_id: str) -> Verdict | None:
    """The host's verdict on ``attempt_id``, if it gave one."""
    for e in ledger.event_records(run_id):
        if e.kind == "host_verdict" and e.attempt_id == attempt_id:
            return Verdict.model_validate(e.data["verdict"])
    return None


def awaiting_host(ledger: Ledger, run_id: str) -> dict[str, str]:
    """task id → attempt id of every patch the driver is waiting for the host to review."""
    events = ledger.event_records(run_id)
    answered = {e.attempt_id for e in events if e.kind == "host_verdict"}
    states = ledger.task_states(run_id)
    return {
        e.task_id: e.attempt_id
        for e in events
        if e.kind == "review_requested"
        and e.task_id is not None
        and e.attempt_id is not None
        and e.attempt_id not in answered
        and states.get(e.task_id) == TaskState.PRODUCED
    }


def submit(
    ledger: Ledger,
    run_id: str,
    task_id: str,
    decision: Decision,
    host: str,
    reasons: Sequence[str] = (),
    feedback: str | None = None,
) -> Verdict:
    """Record the host's verdict on the patch of ``task_id`` that awaits it, as the manager's
    verdict with the host named as reviewer. UserError when no patch of that task awaits one,
    or a revision comes without feedback (it becomes the next attempt's instruction)."""
    waiting = awaiting_host(ledger, run_id)
    if task_id not in ledger.task_states(run_id):
        raise UserError(f"run {run_id} has no task {task_id}")
    if task_id not in waiting:
        raise UserError(f"task {task_id} of run {run_id} has no patch awaiting review")
    if decision == "revise" and not (feedback or "").strip():
        raise UserError("a revision needs feedback: it becomes the next attempt's instruction")
    verdict = Verdict(
        decision=decision,
        reviewer=f"manager:host:{host}",
        reasons=tuple(reasons) or (f"{_SAID[decision]} by the host {host}",),
        feedback=feedback,
    )
    ledger.event(
        run_id,
        "host_verdict",
        {"verdict": verdict.model_dump(mode="json"), "host": host},
        task_id=task_id,
        attempt_id=waiting[task_id],
    )
    return verdict
