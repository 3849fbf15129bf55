"""The manager's review step around the Reviewer seam: the model reviewer's calls and transcript
go to the ledger, and before integration the manager proposes the merge order (with reasons)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast, runtime_checkable

from pydantic import JsonValue

from crewchief.errors import ModelUnavailable
from crewchief.ledger.store import Ledger
from crewchief.merge import integrate
from crewchief.merge.integrate import Pick
from crewchief.records import (
    CheckResult,
    ModelWork,
    Plan,
    Task,
    Verdict,
    WorkerResult,
)
from crewchief.run.taskgraph import TaskGraph


class Summary(Protocol):
    """A change summary: ``event_data()`` is the ``manager_summary`` event's data, ``work``
    the manager's calls and conversation that made it."""

    @property
    def work(self) -> ModelWork: ...

    def event_data(self) -> dict[str, object]: ...


@runtime_checkable
class ModelReviewer(Protocol):
    """A reviewer backed by a model: its verdicts carry their model work, and it can
    summarize the change."""

    name: str

    def review(
        self, task: Task, result: WorkerResult, checks: Sequence[CheckResult]
    ) -> Verdict: ...

    def summarize(self, plan: Plan, accepted: Sequence[AcceptedLike]) -> Summary: ...


class AcceptedLike(Protocol):
    """An accepted patch as a summarizer reads it (``llm.summary.AcceptedPatch``)."""

    @property
    def task(self) -> Task: ...
    @property
    def patch(self) -> bytes: ...
    @property
    def rationale(self) -> str: ...


def record_model_work(
    ledger: Ledger,
    work: ModelWork | None,
    run_id: str,
    task_id: str | None = None,
    attempt_id: str | None = None,
) -> None:
    """Store what a model reviewer did for one verdict or summary: its calls and transcript."""
    if work is None:
        return
    ledger.record_calls(run_id, work.calls, task_id=task_id, attempt_id=attempt_id)
    ledger.record_transcript(
        run_id, "reviewer", work.transcript, task_id=task_id, attempt_id=attempt_id
    )


def merge_order(
    ledger: Ledger, reviewer: object, run_id: str, plan: Plan, picks: Sequence[Pick]
) -> list[str]:
    """The order to integrate ``picks``: the manager's proposal when there is a model reviewer
    (asked once per run, then reused), else dependencies first and plan order."""
    ids = {p.task.id for p in picks}
    fallback = integrate.merge_order(plan, ids)
    proposed = _proposal(ledger, run_id)
    if proposed is None and isinstance(reviewer, ModelReviewer) and picks:
        from crewchief.llm.summary import AcceptedPatch

        accepted = [AcceptedPatch(p.task, p.patch, p.rationale) for p in picks]
        try:
            summary = reviewer.summarize(plan, accepted)
        except ModelUnavailable as e:  # the calls of a failed summary are spent too
            record_model_work(ledger, e.work, run_id)
            raise
        record_model_work(ledger, summary.work, run_id)
        ledger.event(run_id, "manager_summary", cast(dict[str, JsonValue], summary.event_data()))
        proposed = _proposal(ledger, run_id)
    if proposed is None:
        return fallback
    order = [t for t in proposed if t in ids]
    # a proposal that puts a task before its dependencies is repaired, stably
    return TaskGraph.of(plan).ordered(order + [t for t in fallback if t not in order])


def _proposal(ledger: Ledger, run_id: str) -> list[str] | None:
    found = [e for e in ledger.event_records(run_id) if e.kind == "manager_summary"]
    if not found:
        return None
    order = found[-1].data.get("order")
    if not isinstance(order, list):
        return None
    return [str(step["task"]) for step in order if isinstance(step, dict) and "task" in step]
