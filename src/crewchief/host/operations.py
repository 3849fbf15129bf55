"""What a host agent (Claude Code, Codex, an IDE) may do with crewchief: read the project, check
and start a plan, follow a run, read a task's dossier, review patches as the manager, merge what
``--yes`` could, blame a line. ``crewchief mcp`` exposes each function as one tool.

Every function returns plain JSON data and raises ``CrewchiefError`` with the CLI's one-line
message; nothing here prints. The human gate stays human: ``merge`` lands a run only when the
project's ``mcp_may_merge`` is on and no task needs a person, else it says what a person must do.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from crewchief import config as config_mod
from crewchief import usecase
from crewchief.errors import UserError
from crewchief.gate import external_review
from crewchief.ledger import provenance, views
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState
from crewchief.records import Decision, TranscriptEntry
from crewchief.run.intake import parse_plan
from crewchief.run.plan import predicted_conflicts, validate

#: Characters of a check's output a dossier carries (its end: where failures are).
CHECK_TAIL = 2000
#: Characters of the worker's final answer a transcript summary carries.
ANSWER_CHARS = 1000
#: How often a waiting ``status`` reads the ledger again.
WAIT_POLL_S = 0.5
#: The run states in which a waiting ``status`` keeps waiting.
BUSY = frozenset({RunState.PLANNED, RunState.RUNNING, RunState.INTEGRATING})


@dataclass(frozen=True)
class Host:
    """A host agent working on one repository; ``name`` is recorded with its verdicts."""

    repo: Path
    name: str = "mcp"

    def config(self) -> config_mod.Config:
        return config_mod.load(self.repo)

    def ledger(self) -> Ledger:
        return Ledger.existing(self.repo)

    def run_config(self, ledger: Ledger, run_id: str) -> config_mod.Config:
        return config_mod.Config.model_validate_json(ledger.run(run_id).config_json)


def project_context(host: Host, focus: list[str], tokens: int) -> dict[str, Any]:
    """The project summary, the ranked symbol map centred on ``focus``, and the commands a plan's
    checks may use (the full suite and the fast checks)."""
    from crewchief.intel.index import SymbolIndex
    from crewchief.intel.repomap import repo_map
    from crewchief.intel.summary import read_project_summary

    cfg = host.config()
    with SymbolIndex(host.repo) as index:
        index.update()
        found = repo_map(index.snapshot(), focus=focus, tokens=tokens)
    return {
        "summary": read_project_summary(host.repo),
        "symbol_map": found.text,
        "symbols_shown": len(found.shown),
        "symbols_total": found.total_symbols,
        "test_command": cfg.test_command,
        "fast_checks": list(cfg.fast_checks),
        "worker_backend": cfg.worker_backend,
        "worker_risk_levels": list(cfg.worker_risk_levels),
        "max_tasks": cfg.max_tasks,
    }


def validate_plan(host: Host, plan_json: str) -> dict[str, Any]:
    """Every problem that stops ``plan_json`` from running, and every predicted conflict: the
    same mechanical validation ``crewchief plan`` and ``run --plan`` apply."""
    try:
        plan = parse_plan(plan_json, "plan")
    except UserError as e:
        return {"valid": False, "problems": [str(e)], "predicted_conflicts": []}
    problems = validate(plan, host.config().max_tasks)
    return {
        "valid": not problems,
        "problems": problems,
        "predicted_conflicts": predicted_conflicts(plan),
    }


def start(
    host: Host,
    plan_json: str | None,
    recipe: str | None,
    recipe_args: dict[str, JsonValue],
    goal: str | None,
    review_by_host: bool,
) -> dict[str, Any]:
    """Record a run from a plan (or a recipe) and drive it in a background process that
    outlives the host. With ``review_by_host`` the run's reviewer is external: it waits for
    ``review`` verdicts instead of calling a model."""
    if (plan_json is None) == (recipe is None):
        raise UserError("give either a plan or a recipe")
    cfg = host.config()
    if review_by_host:
        cfg = cfg.model_copy(update={"reviewer": "external"})
    change = usecase.Change(goal=goal, recipe=recipe, recipe_args=recipe_args, plan_json=plan_json)
    started = usecase.start_change(host.repo, cfg, change)
    pid = usecase.drive_in_background(
        host.repo, started.ledger, started.run_id, f"host:{host.name}"
    )
    return {
        "run": started.run_id,
        "tasks": [t.id for t in started.plan.tasks],
        "predicted_conflicts": list(started.conflicts),
        "reviewer": cfg.reviewer,
        "driver_pid": pid,
        "next": f"poll run_status for {started.run_id}; review tasks listed under awaiting_review",
    }


def status(host: Host, run_id: str | None, wait_s: float = 0.0) -> dict[str, Any]:
    """A run, its tasks, what awaits the host's review and what awaits a person's decision.
    With ``wait_s`` it answers as soon as a patch awaits the host's review or the run is no
    longer planned, running or integrating, and at the latest after ``wait_s`` seconds: a host
    model following a run spends one turn per change instead of one per poll."""
    deadline = time.monotonic() + wait_s
    while True:
        found = _status(host, run_id)
        idle = found["awaiting_review"] or RunState(found["state"]) not in BUSY
        if idle or time.monotonic() >= deadline:
            return found
        time.sleep(WAIT_POLL_S)


def _status(host: Host, run_id: str | None) -> dict[str, Any]:
    ledger = host.ledger()
    rid = ledger.resolve_run(run_id)
    state = ledger.run(rid).state
    return {
        **views.run_summary(ledger, rid).model_dump(mode="json"),
        "task_list": [r.model_dump(mode="json") for r in views.task_rows(ledger, rid)],
        "awaiting_review": sorted(external_review.awaiting_host(ledger, rid)),
        "awaiting_decision": views.awaiting_decision(ledger, rid),
        "merge_order": [m.model_dump(mode="json") for m in views.merge_order(ledger, rid)],
        "cost": views.cost_breakdown(ledger, rid).model_dump(mode="json"),
        "next": _next_step(rid, state),
    }


def _next_step(run_id: str, state: RunState) -> str:
    if state == RunState.AWAITING_APPROVAL:
        return f"the suite is green: call merge for {run_id}, or a person runs crewchief review"
    if state in (RunState.MERGED, RunState.CANCELLED, RunState.FAILED):
        return f"run {run_id} is {state}: nothing more happens to it"
    return "review the tasks under awaiting_review; poll again"


def dossier(host: Host, run_id: str, task_id: str) -> dict[str, Any]:
    """What a reviewer needs about one task: its instruction, the patch under review, the gate's
    checks, the worker's rationale and assumptions, a transcript summary and the cost."""
    ledger = host.ledger()
    rid = ledger.resolve_run(run_id)
    if task_id not in ledger.task_states(rid):
        raise UserError(f"run {rid} has no task {task_id}")
    task = ledger.plan(rid).task(task_id)
    patch = views.review_patch(ledger, rid, task_id)
    attempts = views.task_attempts(ledger, rid, task_id)
    newest = attempts[-1] if attempts else None
    shown = next((a for a in attempts if a.id == patch.attempt), newest)
    result = shown.result if shown else None  # task_attempts has read it already
    return {
        "run": rid,
        "task": task_id,
        "state": str(ledger.task_states(rid)[task_id]),
        "instructions": task.instructions,
        "owned_paths": list(task.owned_paths),
        "attempt": shown.id if shown else None,
        "attempts": len(attempts),
        "diff": patch.patch.decode(errors="replace"),
        "checks": [
            {**c.model_dump(mode="json"), "output": c.output[-CHECK_TAIL:]}
            for c in (shown.checks if shown else [])
        ],
        "rationale": result.rationale if result else "",
        "assumptions": list(result.assumptions) if result else [],
        "transcript": transcript_summary(tuple(result.transcript) if result else ()),
        "cost_usd": shown.cost if shown else None,
        "verdicts": [v.model_dump(mode="json") for v in shown.verdicts] if shown else [],
    }


def transcript_summary(entries: tuple[TranscriptEntry, ...]) -> dict[str, Any]:
    """How the worker got there: steps, tool calls by tool, errors, its last answer."""
    tools: dict[str, int] = {}
    for e in entries:
        if e.kind == "tool_call":
            tools[e.tool or "?"] = tools.get(e.tool or "?", 0) + 1
    answers = [e.content for e in entries if e.kind == "response"]
    return {
        "entries": len(entries),
        "tool_calls": tools,
        "errors": sum(1 for e in entries if e.kind == "error"),
        "last_answer": answers[-1][:ANSWER_CHARS] if answers else None,
    }


def review(
    host: Host,
    run_id: str,
    task_id: str,
    decision: Decision,
    feedback: str | None,
    reasons: list[str],
) -> dict[str, Any]:
    """The host's verdict, as the manager, on the task's patch that awaits it."""
    ledger = host.ledger()
    rid = ledger.resolve_run(run_id)
    verdict = external_review.submit(ledger, rid, task_id, decision, host.name, reasons, feedback)
    return {"run": rid, "task": task_id, "verdict": verdict.model_dump(mode="json")}


def merge(host: Host, run_id: str) -> dict[str, Any]:
    """Approve and merge a green run as ``--yes`` would, if the project lets a host do it.
    Otherwise, or when a task needs a person, nothing is approved and the answer names what a
    person must run."""
    ledger = host.ledger()
    rid = ledger.resolve_run(run_id)
    cfg = host.run_config(ledger, rid)
    done = usecase.merge_unattended(host.repo, ledger, rid, cfg, f"host:{host.name}")
    if done.landing is not None:
        return {"merged": True, **asdict(done.landing)}
    person = f"crewchief review {rid}  then  crewchief merge {rid}  (or crewchief serve)"
    found: dict[str, Any] = {"merged": False, "reason": done.refused}
    if done.needs_person:
        found["needs_a_person"] = sorted(done.needs_person)
    return {**found, "a_person_must_run": person}


def blame(host: Host, path: str, first: int, last: int | None, rev: str) -> list[dict[str, Any]]:
    """Where each line came from: run, task, attempt, worker, model, instruction."""
    return [asdict(o) for o in provenance.blame(host.repo, path, rev, first, last)]
