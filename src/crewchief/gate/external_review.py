"""The external reviewer: a host agent (through ``crewchief mcp``) reviews each patch as the
manager, and the run waits for its verdict instead of calling a model.

The driver and the host are different processes; the ledger is how they meet. For each patch
that passed the gate the driver appends ``review_requested`` (with the attempt) and goes on:
the patch stays produced while other tasks start and finish. A ``host_verdict`` event for that
attempt (``submit`` writes one) is taken in by the driver when it appears; ``watch`` is how the
driver wakes for it. Mechanical checks come first, as with every reviewer: a patch that failed
them is rejected by the rules and never shown to the host.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from concurrent.futures import Future, InvalidStateError
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from crewchief.errors import UserError
from crewchief.gate.verify import RuleReviewer
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import TaskState
from crewchief.records import CheckResult, Decision, Task, Verdict, WorkerResult

_SAID = {"approve": "approved", "revise": "sent back for a revision", "reject": "rejected"}

#: How often the watching thread looks at the ledger for the host's verdicts.
POLL_S = 0.2


@dataclass
class ExternalReviewer:
    """Reviewer of one run whose verdicts come from a host agent, read from ``ledger``: a
    ``DeferredReviewer``."""

    ledger: Ledger
    run_id: str
    name: str = "external"

    def review(self, task: Task, result: WorkerResult, checks: Sequence[CheckResult]) -> Verdict:
        """The rules' verdict when the gate failed; else the host's, waited for (the driver
        uses ``request`` and ``watch`` instead, so that other work goes on meanwhile)."""
        attempt = self.ledger.attempts(self.run_id, task.id)[-1].id
        ruled = self.request(task, result, checks, attempt)
        if ruled is not None:
            return ruled
        self.watch([attempt]).result()
        verdict = host_verdict(self.ledger, self.run_id, attempt)
        assert verdict is not None
        return verdict

    def request(
        self, task: Task, result: WorkerResult, checks: Sequence[CheckResult], attempt_id: str
    ) -> Verdict | None:
        """The rules' verdict when the gate failed, or the host's if it has given one; else
        None, with the review requested from the host (once per attempt)."""
        ruled = RuleReviewer().review(task, result, checks)
        if ruled.decision != "approve":
            return ruled
        given = host_verdict(self.ledger, self.run_id, attempt_id)
        if given is not None:
            return given
        asked = any(
            e.kind == "review_requested" and e.attempt_id == attempt_id
            for e in self.ledger.event_records(self.run_id)
        )
        if not asked:
            self.ledger.event(
                self.run_id, "review_requested", {}, task_id=task.id, attempt_id=attempt_id
            )
        return None

    def given(self) -> dict[str, Verdict]:
        """Every verdict the host has given on this run, by attempt."""
        return host_verdicts(self.ledger, self.run_id)

    def watch(self, attempt_ids: Collection[str]) -> Watch:
        """A future done once the host has answered any of ``attempt_ids`` (read through a
        ledger connection of its own, in a thread)."""
        return Watch(self.ledger.path, self.run_id, frozenset(attempt_ids))


class Watch(Future[str]):
    """Done with the first of its attempts the host has answered; ``cancel`` ends it."""

    def __init__(self, ledger: Path, run_id: str, attempts: frozenset[str]) -> None:
        super().__init__()
        self._stop = threading.Event()
        args = (ledger, run_id, attempts)
        threading.Thread(target=self._poll, args=args, daemon=True, name="host-review").start()

    def _poll(self, path: Path, run_id: str, attempts: frozenset[str]) -> None:
        ledger = Ledger(path)  # the thread's own connection
        try:
            while not self._stop.is_set():
                answered = sorted(attempts & host_verdicts(ledger, run_id).keys())
                if answered:
                    with suppress(InvalidStateError):  # cancelled meanwhile: nobody waits
                        self.set_result(answered[0])
                    return
                self._stop.wait(POLL_S)
        except Exception as e:  # the driver sees why it was woken
            with suppress(InvalidStateError):
                self.set_exception(e)
        finally:
            ledger.close()

    def cancel(self) -> bool:
        self._stop.set()
        return super().cancel()


def host_verdict(ledger: Ledger, run_id: str, attempt_id: str) -> Verdict | None:
    """The host's verdict on ``attempt_id``, if it gave one."""
    return host_verdicts(ledger, run_id).get(attempt_id)


def host_verdicts(ledger: Ledger, run_id: str) -> dict[str, Verdict]:
    """Attempt id → the host's verdict on it, for every attempt the host has answered (one
    read of the run's events)."""
    return {
        e.attempt_id: Verdict.model_validate(e.data["verdict"])
        for e in ledger.event_records(run_id)
        if e.kind == "host_verdict" and e.attempt_id is not None
    }


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
