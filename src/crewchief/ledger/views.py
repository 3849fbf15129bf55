"""Read models over the ledger: what ``status``, ``log``, ``review`` and the web page show.

Frozen pydantic models, so that the CLI renders them with rich, ``--json`` dumps them with
``model_dump(mode="json")`` (their JSON Schema is published under ``docs/json-schema/``) and the
page templates them: one query, three faces.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from crewchief.errors import UserError
from crewchief.ledger import cost
from crewchief.ledger.cost import CostSummary
from crewchief.ledger.provenance import trailers as commit_trailers
from crewchief.ledger.rows import StoredCheck
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.merge.groups import group_of
from crewchief.records import (
    ChangeRequest,
    CheckKind,
    Decision,
    EventKind,
    LandingGroup,
    ModelCall,
    Risk,
    TranscriptEntry,
    Usage,
    Verdict,
    WorkerResult,
    WorkerStatus,
)
from crewchief.run.runlock import is_driven


class View(BaseModel):
    """A read model: frozen, and exactly the fields it names."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RunSummary(View):
    """One run in one line: request, state, base/target, integration, suite, task counts."""

    run: str = Field(description="The run's id.")
    goal: str = Field(
        description="The request in words (a recipe as its name and arguments, never raw JSON).",
    )
    state: RunState = Field(
        description="``interrupted`` when the ledger says running but no process drives the run.",
    )
    target: str = Field(description="The branch the run lands on.")
    base: str = Field(description="The commit the run started from.")
    integration: str | None = Field(
        description=(
            "The tip of the run's integration ref (``refs/crewchief/runs/<run>``); None before any."
        ),
    )
    suite_passed: bool | None = Field(
        description="The suite on the integration commit: None when it never ran there.",
    )
    tasks: dict[str, int] = Field(description="How many tasks are in each state.")
    started: float = Field(description="When the run was created (Unix time, seconds).")
    updated: float = Field(description="When its newest event was recorded (Unix time, seconds).")
    approved_by: list[str] = Field(
        description="Who approved something in the run (not who rejected).",
    )


def run_summary(ledger: Ledger, run_id: str) -> RunSummary:
    """One run: request, state, base/target, integration, suite, task counts, timings."""
    run = ledger.run(run_id)
    states = ledger.task_states(run_id)
    counts: dict[str, int] = {}
    for s in states.values():
        counts[s] = counts.get(s, 0) + 1
    events = ledger.events(run_id)
    return RunSummary(
        run=run_id,
        goal=describe_request(ledger.request(run_id)),
        state=_live_state(ledger, run_id, run.state),
        target=run.target_branch,
        base=run.base_commit,
        integration=run.integration_commit,
        suite_passed=_suite_passed(ledger, run_id),
        tasks=counts,
        started=run.created_at,
        updated=events[-1]["at"] if events else run.created_at,
        approved_by=sorted({a.who for a in ledger.approvals(run_id) if a.decision == "approve"}),
    )


def describe_request(request: ChangeRequest) -> str:
    """The request in words: the goal, or a recipe with its arguments as ``name=value``."""
    if request.recipe is None:
        return request.goal
    args = " ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in request.recipe_args.items()
    )
    return f"{request.recipe} {args}".strip()


def _live_state(ledger: Ledger, run_id: str, state: str) -> RunState:
    """``running`` only while a process drives the run: a driver that died (SIGKILL, a lost
    machine) leaves the ledger saying running, but its lock is free — that run is interrupted
    and ``resume`` continues it."""
    if state == RunState.RUNNING and not is_driven(ledger.path.parent.parent, run_id):
        return RunState.INTERRUPTED
    return RunState(state)


def _suite_passed(ledger: Ledger, run_id: str) -> bool | None:
    """The suite's result on the commit on the gate (the run's integration commit), or None
    when the suite never ran on that commit."""
    run = ledger.run(run_id)
    if run.suite_passed is not None:
        return bool(run.suite_passed)
    found = suite_result(ledger, run_id)
    return None if found is None else found.passed


#: Longest one-line reason shown for a task.
MAX_REASON_CHARS = 160


def state_reasons(ledger: Ledger, run_id: str) -> dict[str, str]:
    """Why each task is in its state, in one line, from the event that moved it there."""
    found: dict[str, str] = {}
    for e in ledger.event_records(run_id):
        if e.kind != "task_state" or e.task_id is None:
            continue
        data = e.data
        parts = data.get("reasons")
        if isinstance(parts, list) and parts:
            text = "; ".join(str(p) for p in parts)
        else:
            text = str(data.get("reason") or "")
        if data.get("because"):
            text = f"{text} (a dependency did not make it: {data['because']})".strip()
        line = text.strip().splitlines()[0] if text.strip() else ""
        found[e.task_id] = line[:MAX_REASON_CHARS]
    return found


class SuiteTrust(View):
    """The newest proof (or refusal) of the suite in a run: its base check and probe."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tree: str = ""
    trusted: bool = False
    problem: str | None = Field(None, description="Why the suite is not trusted (None when it is).")
    probe_cached: bool = False
    probed: bool = Field(
        True,
        description="False when the sensitivity probe is off (``suite_probe = false``).",
    )
    broken: list[str] = Field(
        default_factory=list,
        description="The tests the probe's breakage made fail.",
    )


def suite_trust(ledger: Ledger, run_id: str) -> SuiteTrust | None:
    """The newest proof (or refusal) of the suite in this run: base check and probe."""
    found = [e.data for e in ledger.event_records(run_id) if e.kind == "suite_trust"]
    return SuiteTrust.model_validate(found[-1]) if found else None


class CheckRow(View):
    """One check of an attempt, without its output."""

    name: str
    kind: CheckKind
    passed: bool
    duration_s: float


class TaskRow(View):
    """One task of a run: its state, attempts, last checks and verdict, and why it is there."""

    task: str = Field(description="The task's id in the plan.")
    title: str
    state: TaskState
    risk: Risk
    owned: list[str] = Field(description="The paths the task owns.")
    depends_on: list[str]
    group: str | None = Field(
        description="The landing group the task lands with (None: it lands alone).",
    )
    attempts: int = Field(description="How many attempts the task has had.")
    backend: str = Field(
        description=(
            "The worker backend that runs it (``llm:worker``, ``recipe:codemod``, ``agent:…``)."
        ),
    )
    checks: list[CheckRow] = Field(description="The newest attempt's checks.")
    verdict: Decision | None = Field(description="The reviewer's decision on the newest attempt.")
    reasons: list[str] = Field(description="The reviewer's reasons for that decision.")
    seconds: float | None = Field(
        description="How long the newest attempt ran (so far, when it still runs).",
    )
    reason: str = Field(
        description='Why the task is in its state, in one line ("" when nothing said why).',
    )


def task_rows(ledger: Ledger, run_id: str) -> list[TaskRow]:
    """Each task with its state, attempts, last checks, verdict, timing and why it is there."""
    plan = ledger.plan(run_id)
    states = ledger.task_states(run_id)
    verdicts = ledger.verdicts(run_id)
    why = state_reasons(ledger, run_id)
    landing = group_of(plan)
    rows = []
    for task in plan.tasks:
        attempts = ledger.attempts(run_id, task.id)
        last = attempts[-1] if attempts else None
        checks = ledger.checks(run_id, last.id) if last else []
        verdict = next((v for a, v in reversed(verdicts) if last and a == last.id), None)
        rows.append(
            TaskRow(
                task=task.id,
                title=task.title,
                state=states[task.id],
                risk=task.risk,
                owned=list(task.owned_paths),
                depends_on=list(task.depends_on),
                group=landing.get(task.id),
                attempts=len(attempts),
                backend=task.backend,
                checks=[
                    CheckRow(
                        name=c.name,
                        kind=c.kind,
                        passed=bool(c.passed),
                        duration_s=round(c.duration_s, 3),
                    )
                    for c in checks
                ],
                verdict=verdict.decision if verdict else None,
                reasons=list(verdict.reasons) if verdict else [],
                seconds=_elapsed(last.started_at, last.ended_at) if last else None,
                reason=why.get(task.id, ""),
            )
        )
    return rows


def _elapsed(start: float | None, end: float | None) -> float | None:
    if start is None:
        return None
    return round((end or time.time()) - start, 2)


class MergeLink(View):
    """One task's commit in the newest integration build."""

    task: str
    attempt: str
    commit: str


def merge_order(ledger: Ledger, run_id: str) -> list[MergeLink]:
    """The newest integration build: each task's commit, in the order they were merged."""
    return [
        MergeLink(task=r.task_id, attempt=r.attempt_id, commit=r.commit_id)
        for r in ledger.integration_chain(run_id)
    ]


def cost_breakdown(ledger: Ledger, run_id: str) -> CostSummary:
    """Model spend of a run from its recorded calls (:func:`crewchief.ledger.cost.summarise`,
    the one derivation ``status``, the page, the dossier and the budgets share)."""
    return cost.summarise(ledger.model_calls(run_id))


class RunStatus(RunSummary):
    """What ``crewchief status --json`` prints: the run's summary, its tasks, its integration
    order, its cost and its suite's trust."""

    merge_reconciled: str | None = Field(
        description=(
            'What ``status`` settled of a merge a kill interrupted ("merged", "void"; None: '
            "nothing)."
        ),
    )
    unsandboxed: list[str] = Field(
        description="Everything the run ran without a sandbox (``sandbox = off``).",
    )
    task_list: list[TaskRow]
    merge_order: list[MergeLink]
    cost: CostSummary
    suite_trust: SuiteTrust | None


def run_status(ledger: Ledger, run_id: str, *, merge_reconciled: str | None) -> RunStatus:
    """The run as ``status`` shows it (``merge_reconciled`` is the caller's: settling a merge
    writes)."""
    return RunStatus(
        **dict(run_summary(ledger, run_id)),
        merge_reconciled=merge_reconciled,
        unsandboxed=unsandboxed(ledger, run_id),
        task_list=task_rows(ledger, run_id),
        merge_order=merge_order(ledger, run_id),
        cost=cost_breakdown(ledger, run_id),
        suite_trust=suite_trust(ledger, run_id),
    )


def unsandboxed(ledger: Ledger, run_id: str) -> list[str]:
    """Everything the run ever ran without a sandbox, from its log (``sandbox_off`` events)."""
    found: dict[str, None] = {}
    for event in ledger.event_records(run_id):
        if event.kind == "sandbox_off":
            items = event.data.get("unsandboxed")
            for item in items if isinstance(items, list) else []:
                found[str(item)] = None
    return list(found)


class LogEvent(View):
    """One ledger event, as ``crewchief log --json`` prints it."""

    seq: int = Field(description="The event's number: increasing, never reused.")
    at: float = Field(description="When it was recorded (Unix time, seconds).")
    kind: EventKind
    task: str | None = Field(description="The task it is about, if any.")
    attempt: str | None = Field(description="The attempt it is about, if any.")
    data: dict[str, JsonValue] = Field(
        description="What the event records; its keys depend on ``kind``.",
    )


def event_log(ledger: Ledger, run_id: str) -> list[LogEvent]:
    return [
        LogEvent(seq=e.seq, at=e.at, kind=e.kind, task=e.task_id, attempt=e.attempt_id, data=e.data)
        for e in ledger.event_records(run_id)
    ]


def task_patch(ledger: Ledger, run_id: str, task_id: str) -> bytes:
    """The accepted patch of ``task_id`` (the one that was or would be integrated)."""
    attempt = ledger.accepted_attempt(run_id, task_id)
    result = ledger.result(attempt) if attempt else None
    return result.patch if result else b""


def awaiting_decision(ledger: Ledger, run_id: str) -> list[str]:
    return [t for t, s in ledger.task_states(run_id).items() if s == TaskState.VERIFIED]


# -- review page read models --------------------------------------------------------------------

#: Run states after which nothing more happens to a run on its own.
_RUN_ENDED = frozenset({RunState.MERGED, RunState.FAILED, RunState.CANCELLED})
_TRAILER_KEYS = {
    "Crewchief-Task": "task",
    "Crewchief-Attempt": "attempt",
    "Crewchief-Worker": "worker",
    "Crewchief-Model": "model",
    "Crewchief-Instruction": "instruction",
}


def result_cost(result: WorkerResult) -> float | None:
    """One result's cost in USD as its backend reported it: its usage total when reported (the
    sum of its calls), else the sum of the calls' costs that are known; None when nothing was
    reported. (A run's spend is :func:`cost_breakdown`, over the ledger's calls.)"""
    if result.usage.cost_usd is not None:
        return result.usage.cost_usd
    known = [c.cost_usd for c in result.calls if c.cost_usd is not None]
    return sum(known) if known else None


class PersonDecision(View):
    """A person's approval or rejection of a task (or of the run when ``task`` is None)."""

    task: str | None
    decision: str
    who: str
    comment: str
    at: float


def decisions(ledger: Ledger, run_id: str, task_id: str | None = None) -> list[PersonDecision]:
    """People's approvals and rejections (of tasks, or of the run when ``task`` is None)."""
    return [
        PersonDecision(
            task=r.task_id,
            decision=r.decision,
            who=r.who,
            comment=r.comment,
            at=r.at,
        )
        for r in ledger.approvals(run_id)
        if task_id is None or r.task_id == task_id
    ]


class Landing(View):
    """Which branch moved from which commit to which, by whom, when."""

    target: str | None
    from_commit: str | None
    to_commit: str | None
    who: str | None
    at: float


class RunOverview(RunSummary):
    """A run as the page shows it: the summary plus cost, end time and the landing."""

    cost: CostSummary
    ended: float | None = Field(
        description="When the run ended (None while something may still happen to it).",
    )
    merged_by: str | None
    landing: Landing | None = Field(description="None until merged.")


def run_overview(ledger: Ledger, run_id: str) -> RunOverview:
    """``run_summary`` plus cost, end time and the landing: which branch moved from which
    commit to which, by whom, when (None until merged)."""
    summary = run_summary(ledger, run_id)
    ended = landing = None
    for e in ledger.event_records(run_id):
        if e.kind != "run_state":
            continue
        to = e.data.get("to")
        if to in _RUN_ENDED:
            ended = e.at
        if to == RunState.MERGED:
            landing = Landing(
                target=_text(e.data.get("target")),
                from_commit=_text(e.data.get("from_commit")),
                to_commit=_text(e.data.get("to_commit")),
                who=_text(e.data.get("who")),
                at=e.at,
            )
    return RunOverview(
        **dict(summary),
        cost=cost_breakdown(ledger, run_id),
        ended=ended if summary.state in _RUN_ENDED else None,
        merged_by=landing.who if landing else None,
        landing=landing,
    )


def _text(value: JsonValue) -> str | None:
    return None if value is None else str(value)


class PlannedTask(View):
    """A task of the plan: ``crewchief.records.Task`` field for field, and its instruction
    digest."""

    id: str = Field(description="The task's id in the plan.")
    title: str
    instructions: str = Field(description="The instruction a worker receives.")
    owned_paths: list[str] = Field(
        description="The paths the task may change (one ending in ``/``: the directory below).",
    )
    context_paths: list[str] = Field(description="The paths its worker reads but may not change.")
    depends_on: list[str] = Field(description="The tasks that land before it.")
    risk: Risk
    checks: list[str] = Field(description="Its acceptance checks (commands).")
    backend: str = Field(
        description=(
            "The worker backend that runs it (``llm:worker``, ``recipe:codemod``, ``agent:…``)."
        ),
    )
    spec: dict[str, JsonValue] = Field(
        description="What its backend reads beyond the instruction (a recipe's arguments, …).",
    )
    instruction_digest: str = Field(
        description="sha256 (hex) of the exact instruction a worker receives: the task as JSON.",
    )


class PlanView(View):
    """The newest plan: ``crewchief.records.Plan`` field for field (without the manager's work),
    each task with its instruction digest."""

    goal: str
    planner: str = Field(description="Who made the plan (a manager model, a recipe, a file).")
    tasks: list[PlannedTask]
    parallel_groups: list[list[str]]
    landing_groups: list[LandingGroup] = Field(
        description="Tasks that land whole or not at all.",
    )
    files: list[str]
    risks: list[str] = Field(description="The risks the planner named.")
    open_questions: list[str] = Field(description="What the planner could not decide.")


def plan_view(ledger: Ledger, run_id: str) -> PlanView:
    """The newest plan, each task with its instruction digest (a field the plan's models gain is
    refused here until the view names it)."""
    plan = ledger.plan(run_id)
    return PlanView(
        **plan.model_dump(exclude={"tasks"}),
        tasks=[
            PlannedTask(**t.model_dump(), instruction_digest=t.instruction_digest())
            for t in plan.tasks
        ],
    )


class OrderReason(View):
    task: str
    reason: str


class ManagerSummary(View):
    """The manager's summary of the change set and its proposed merge order with reasons."""

    summary: str
    order: list[OrderReason]
    at: float


def manager_summary(ledger: Ledger, run_id: str) -> ManagerSummary | None:
    """The newest ``manager_summary`` event: summary text and proposed order with reasons."""
    found = [e for e in ledger.event_records(run_id) if e.kind == "manager_summary"]
    if not found:
        return None
    data = found[-1].data
    order = data.get("order")
    return ManagerSummary(
        summary=str(data.get("summary") or ""),
        order=[
            OrderReason(task=str(o.get("task", "?")), reason=str(o.get("reason") or ""))
            for o in (order if isinstance(order, list) else [])
            if isinstance(o, dict)
        ],
        at=found[-1].at,
    )


class SuiteResult(View):
    """The full suite's newest result on an integration commit, with its output."""

    commit: str
    name: str
    passed: bool
    output: str
    duration_s: float
    at: float


def suite_result(ledger: Ledger, run_id: str) -> SuiteResult | None:
    """The full suite's newest result on the run's current integration commit, with output."""
    commit = ledger.run(run_id).integration_commit
    rows = [r for r in ledger.checks(run_id) if r.kind == "suite" and r.commit_id == commit]
    if commit is None or not rows:
        return None
    r = rows[-1]
    return SuiteResult(
        commit=commit,
        name=r.name,
        passed=bool(r.passed),
        output=r.output,
        duration_s=round(r.duration_s, 3),
        at=r.at,
    )


class ProvenanceRow(View):
    """One integration commit with its provenance (``?`` where neither source names a part)."""

    commit: str
    position: int
    task: str
    attempt: str = "?"
    worker: str = "?"
    model: str | None = None
    instruction: str = "?"
    source: Literal["git", "ledger"] = Field(
        description=(
            "Where the provenance was read: the commit's trailers, or the ledger when git cannot."
        ),
    )


def provenance(repo: Path, ledger: Ledger, run_id: str) -> list[ProvenanceRow]:
    """Each integration commit with its provenance trailers as git has them; where git cannot
    read the commit, the ledger's record of it (``source`` says which)."""
    backends = {a.id: a.backend for a in ledger.attempts(run_id)}
    plan = ledger.plan(run_id)
    out: list[ProvenanceRow] = []
    for link in ledger.integration_chain(run_id):
        trailers = _trailers(repo, link.commit_id)
        task_id = link.task_id
        fallback = {
            "task": task_id,
            "attempt": link.attempt_id,
            "worker": backends.get(link.attempt_id, "?"),
            "instruction": "sha256:" + plan.task(task_id).instruction_digest(),
        }
        out.append(
            ProvenanceRow(
                commit=link.commit_id,
                position=link.position,
                **(trailers if trailers else fallback),
                source="git" if trailers else "ledger",
            )
        )
    return out


def _trailers(repo: Path, commit: str) -> dict[str, str]:
    raw = commit_trailers(repo, commit)
    found = {_TRAILER_KEYS[k]: v.strip() for k, v in raw.items() if k in _TRAILER_KEYS}
    return found if "task" in found else {}


class CheckView(View):
    """One gate check of an attempt, with its output."""

    name: str
    kind: CheckKind
    passed: bool
    output: str = Field(description="What the check printed (secrets redacted).")
    duration_s: float


class AttemptResult(View):
    """What an attempt produced (``crewchief.records.WorkerResult`` field for field) without
    its patch."""

    status: WorkerStatus
    rationale: str = Field(description="The worker's account of its change.")
    assumptions: list[str]
    log: str = Field(description="The backend's log (a deterministic backend's account).")
    error: str | None
    usage: Usage = Field(description="Tokens and cost as the backend reported them.")
    calls: list[ModelCall] = Field(description="The worker's model calls.")
    transcript: list[TranscriptEntry] = Field(
        description="The worker's conversation, exactly as sent and received (secrets redacted).",
    )
    duration_s: float


class AttemptView(View):
    """One attempt of a task: its result, spend, the gate's checks and the reviewers' verdicts."""

    id: str = Field(description="The attempt's id.")
    number: int = Field(description="Its number among the task's attempts, from 1.")
    backend: str
    base: str = Field(description="The commit it started from.")
    extra_instruction: str | None = Field(
        description="What was added to the task's instruction (a send-back's comment, a retry).",
    )
    started: float = Field(description="When it started (Unix time, seconds).")
    ended: float | None = Field(description="When it ended (None while it runs).")
    status: WorkerStatus | None = Field(description="Its result's status (None while it runs).")
    accepted: bool = Field(description="Whether it is the task's accepted attempt.")
    result: AttemptResult | None = Field(description="What it produced (None while it runs).")
    cost: float | None = Field(
        description="Its result's cost in USD as its backend reported it (None: not reported).",
    )
    spend: str = Field(
        description="The ledger's spend on it (its worker's and reviewers' calls), in words.",
    )
    checks: list[CheckView]
    verdicts: list[Verdict] = Field(description="The reviewers' verdicts, with per-hunk notes.")


def task_attempts(ledger: Ledger, run_id: str, task_id: str) -> list[AttemptView]:
    """Every attempt of a task: its result (rationale, transcript, usage, calls, the cost its
    backend reported), the ledger's spend on it in the one wording (``spend``: its worker's and
    reviewers' calls), the gate's checks with their output and the reviewers' verdicts (with
    per-hunk notes)."""
    verdicts = ledger.verdicts(run_id, task_id)
    accepted = ledger.accepted_attempt(run_id, task_id)
    calls = ledger.model_calls(run_id)
    out = []
    for a in ledger.attempts(run_id, task_id):
        spend = cost.summarise(c for c in calls if c.attempt_id == a.id)
        result = WorkerResult.model_validate_json(a.result_json) if a.result_json else None
        out.append(
            AttemptView(
                id=a.id,
                number=a.number,
                backend=a.backend,
                base=a.base_commit,
                extra_instruction=a.extra_instruction,
                started=a.started_at,
                ended=a.ended_at,
                status=a.status,
                accepted=a.id == accepted,
                result=AttemptResult(**result.model_dump(exclude={"patch"})) if result else None,
                cost=result_cost(result) if result else None,
                spend=spend.text,
                checks=[_check_view(c) for c in ledger.checks(run_id, a.id)],
                verdicts=[v for at, v in verdicts if at == a.id],
            )
        )
    return out


def _check_view(c: StoredCheck) -> CheckView:
    return CheckView(
        name=c.name,
        kind=c.kind,
        passed=bool(c.passed),
        output=c.output,
        duration_s=round(c.duration_s, 3),
    )


class LiveState(View):
    """What the page polls: run state, suite, each task's state and the newest event number."""

    run: str
    state: RunState
    suite_passed: bool | None
    tasks: dict[str, TaskState]
    awaiting: list[str]
    seq: int


def live_state(ledger: Ledger, run_id: str) -> LiveState:
    """What the page polls: run state (``interrupted`` as ``status`` says it), suite, each
    task's state and the newest event number."""
    run = ledger.run(run_id)
    states = ledger.task_states(run_id)
    events = ledger.events(run_id)
    return LiveState(
        run=run_id,
        state=_live_state(ledger, run_id, run.state),
        suite_passed=None if run.suite_passed is None else bool(run.suite_passed),
        tasks=dict(states),
        awaiting=[t for t, s in states.items() if s == TaskState.VERIFIED],
        seq=events[-1]["seq"] if events else 0,
    )


class ShownPatch(View):
    """The patch a reviewer should read, and whose it is."""

    attempt: str | None = Field(description="The attempt it is from (None: no attempt has one).")
    accepted: bool = Field(description="Whether that attempt is the task's accepted one.")
    patch: bytes = Field(description="The patch (``git diff --binary`` bytes; empty: none).")


def review_patch(ledger: Ledger, run_id: str, task_id: str) -> ShownPatch:
    """The patch a reviewer should read: the accepted attempt's, else the newest attempt's that
    produced one (marked not accepted), else none."""
    accepted = ledger.accepted_attempt(run_id, task_id)
    candidates = [accepted] if accepted else [a.id for a in ledger.attempts(run_id, task_id)]
    for attempt_id in reversed(candidates):
        result = ledger.result(attempt_id)
        if result is not None and result.patch:
            return ShownPatch(
                attempt=attempt_id, accepted=attempt_id == accepted, patch=result.patch
            )
    return ShownPatch(attempt=None, accepted=False, patch=b"")


class ReviewConversation(View):
    """A reviewer's (or planner's) conversation about one attempt, from its ``transcript``
    event."""

    attempt: str | None = Field(description="The attempt it is about (None: the run).")
    role: str = Field(description="Who conversed (``reviewer``, ``manager``).")
    entries: list[TranscriptEntry] = Field(
        description="The conversation, exactly as sent and received (secrets redacted).",
    )


class TaskTranscripts(View):
    """What ``crewchief show TASK --json`` prints: a task's attempts with their results,
    transcripts, usage, checks and verdicts, and the reviewers' conversations."""

    run: str = Field(description="The run's id.")
    task: str = Field(description="The task's id in the plan.")
    attempts: list[AttemptView] = Field(description="Every attempt of the task, in order.")
    reviews: list[ReviewConversation] = Field(
        description="The conversations recorded about the task's attempts, in order.",
    )


def task_transcripts(ledger: Ledger, run_id: str, task_id: str) -> TaskTranscripts:
    """A task's attempts with their transcripts and usage, and the reviewer's conversations."""
    if task_id not in ledger.task_states(run_id):
        raise UserError(f"run {run_id} has no task {task_id}")
    reviews = [
        ReviewConversation.model_validate(
            {
                "attempt": e.attempt_id,
                "role": e.data.get("role"),
                "entries": e.data.get("entries", []),
            }
        )
        for e in ledger.event_records(run_id)
        if e.kind == "transcript" and e.task_id == task_id
    ]
    return TaskTranscripts(
        run=run_id,
        task=task_id,
        attempts=task_attempts(ledger, run_id, task_id),
        reviews=reviews,
    )
