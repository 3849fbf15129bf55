"""Read models over the ledger: what ``status``, ``log``, ``review`` and the web page show.

Plain data (dicts of JSON values) so that the CLI renders them with rich, ``--json`` dumps them
as they are, and the web page templates them: one query, three faces.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crewchief.errors import UserError
from crewchief.ledger.provenance import trailers as commit_trailers
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.merge.groups import group_of
from crewchief.records import ChangeRequest, WorkerResult
from crewchief.run.runlock import is_driven


def run_summary(ledger: Ledger, run_id: str) -> dict[str, Any]:
    """One run: request, state, base/target, integration, suite, task counts, timings."""
    run = ledger.run(run_id)
    states = ledger.task_states(run_id)
    counts: dict[str, int] = {}
    for s in states.values():
        counts[s] = counts.get(s, 0) + 1
    events = ledger.events(run_id)
    return {
        "run": run_id,
        "goal": describe_request(ledger.request(run_id)),
        "state": _live_state(ledger, run_id, run["state"]),
        "target": run["target_branch"],
        "base": run["base_commit"],
        "integration": run["integration_commit"],
        "suite_passed": _suite_passed(ledger, run_id),
        "tasks": counts,
        "started": run["created_at"],
        "updated": events[-1]["at"] if events else run["created_at"],
        "approved_by": sorted({a["who"] for a in ledger.approvals(run_id)}),
    }


def describe_request(request: ChangeRequest) -> str:
    """The request in words: the goal, or a recipe with its arguments as ``name=value``."""
    if request.recipe is None:
        return request.goal
    args = " ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in request.recipe_args.items()
    )
    return f"{request.recipe} {args}".strip()


def _live_state(ledger: Ledger, run_id: str, state: str) -> str:
    """``running`` only while a process drives the run: a driver that died (SIGKILL, a lost
    machine) leaves the ledger saying running, but its lock is free — that run is interrupted
    and ``resume`` continues it."""
    if state == RunState.RUNNING and not is_driven(ledger.path.parent.parent, run_id):
        return str(RunState.INTERRUPTED)
    return state


def _suite_passed(ledger: Ledger, run_id: str) -> bool | None:
    """The suite's result on the commit on the gate (the run's integration commit), or None
    when the suite never ran on that commit."""
    run = ledger.run(run_id)
    if run["suite_passed"] is not None:
        return bool(run["suite_passed"])
    found = suite_result(ledger, run_id)
    return None if found is None else bool(found["passed"])


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


def suite_trust(ledger: Ledger, run_id: str) -> dict[str, Any] | None:
    """The newest proof (or refusal) of the suite in this run: base check and probe."""
    found = [e.data for e in ledger.event_records(run_id) if e.kind == "suite_trust"]
    return dict(found[-1]) if found else None


def task_rows(ledger: Ledger, run_id: str) -> list[dict[str, Any]]:
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
        checks = ledger.checks(run_id, last["id"]) if last else []
        verdict = next((v for a, v in reversed(verdicts) if last and a == last["id"]), None)
        started = last["started_at"] if last else None
        ended = last["ended_at"] if last else None
        rows.append(
            {
                "task": task.id,
                "title": task.title,
                "state": str(states[task.id]),
                "risk": task.risk,
                "owned": list(task.owned_paths),
                "depends_on": list(task.depends_on),
                "group": landing.get(task.id),
                "attempts": len(attempts),
                "backend": task.backend,
                "checks": [
                    {
                        "name": c["name"],
                        "kind": c["kind"],
                        "passed": bool(c["passed"]),
                        "duration_s": round(c["duration_s"], 3),
                    }
                    for c in checks
                ],
                "verdict": verdict.decision if verdict else None,
                "reasons": list(verdict.reasons) if verdict else [],
                "seconds": _elapsed(started, ended),
                "reason": why.get(task.id, ""),
            }
        )
    return rows


def _elapsed(start: float | None, end: float | None) -> float | None:
    if start is None:
        return None
    return round((end or time.time()) - start, 2)


def event_log(ledger: Ledger, run_id: str) -> list[dict[str, Any]]:
    return [
        {
            "seq": e["seq"],
            "at": e["at"],
            "kind": e["kind"],
            "task": e["task_id"],
            "attempt": e["attempt_id"],
            "data": json.loads(e["data_json"]),
        }
        for e in ledger.events(run_id)
    ]


def task_patch(ledger: Ledger, run_id: str, task_id: str) -> bytes:
    """The accepted patch of ``task_id`` (the one that was or would be integrated)."""
    attempt = ledger.accepted_attempt(run_id, task_id)
    result = ledger.result(attempt) if attempt else None
    return result.patch if result else b""


def merge_order(ledger: Ledger, run_id: str) -> list[dict[str, Any]]:
    """The newest integration build: each task's commit, in the order they were merged."""
    return [
        {"task": r["task_id"], "attempt": r["attempt_id"], "commit": r["commit_id"]}
        for r in ledger.integration_chain(run_id)
    ]


def awaiting_decision(ledger: Ledger, run_id: str) -> list[str]:
    return [t for t, s in ledger.task_states(run_id).items() if s == TaskState.VERIFIED]


# -- review page read models (the web page; fit for --json as they are) ------------------------

#: Run states after which nothing more happens to a run on its own.
_RUN_ENDED = frozenset({"merged", "failed", "cancelled"})
_TRAILER_KEYS = {
    "Crewchief-Task": "task",
    "Crewchief-Attempt": "attempt",
    "Crewchief-Worker": "worker",
    "Crewchief-Model": "model",
    "Crewchief-Instruction": "instruction",
}


def result_cost(result: WorkerResult) -> float | None:
    """One result's cost in USD: its usage total when reported (the sum of its calls), else the
    sum of the calls' costs that are known; None when nothing was reported."""
    if result.usage.cost_usd is not None:
        return result.usage.cost_usd
    known = [c.cost_usd for c in result.calls if c.cost_usd is not None]
    return sum(known) if known else None


def _cost_complete(result: WorkerResult) -> bool:
    if result.usage.cost_usd is not None:
        return True
    return bool(result.calls) and all(c.cost_usd is not None for c in result.calls)


def run_cost(ledger: Ledger, run_id: str) -> dict[str, Any]:
    """What a run cost, for one line of a page: derived from :func:`cost_breakdown`, the one
    derivation ``status``, the page and the budgets share (the ``model_calls`` table).

    ``usd`` is None when nothing reported a cost (unknown is never 0); ``unknown`` counts the
    calls that reported none: then ``usd`` is a lower bound. ``text`` says it in words.
    """
    breakdown = cost_breakdown(ledger, run_id)
    return {
        "usd": breakdown["total_usd"],
        "known": breakdown["calls"] - breakdown["unknown_calls"],
        "unknown": breakdown["unknown_calls"],
        "text": cost_words(breakdown),
    }


def cost_words(breakdown: dict[str, Any]) -> str:
    """The one wording of a cost, used everywhere it is shown."""
    calls, unknown, total = breakdown["calls"], breakdown["unknown_calls"], breakdown["total_usd"]
    if not calls:
        return "none (no model calls)"
    if total is None:
        return f"unknown ({unknown} of {calls} model calls reported no cost)"
    if unknown:
        return f"at least ${total:.4f} ({unknown} of {calls} model calls reported no cost)"
    return f"${total:.4f}"


def decisions(ledger: Ledger, run_id: str, task_id: str | None = None) -> list[dict[str, Any]]:
    """People's approvals and rejections (of tasks, or of the run when ``task`` is None)."""
    return [
        {
            "task": r["task_id"],
            "decision": r["decision"],
            "who": r["who"],
            "comment": r["comment"],
            "at": r["at"],
        }
        for r in ledger.approvals(run_id)
        if task_id is None or r["task_id"] == task_id
    ]


def run_overview(ledger: Ledger, run_id: str) -> dict[str, Any]:
    """``run_summary`` plus cost, end time, who approved (not who rejected), and the landing:
    which branch moved from which commit to which, by whom, when (None until merged)."""
    summary = run_summary(ledger, run_id)
    ended = merged_by = landing = None
    for e in ledger.events(run_id):
        if e["kind"] != "run_state":
            continue
        data = json.loads(e["data_json"])
        if data.get("to") in _RUN_ENDED:
            ended = e["at"]
        if data.get("to") == "merged":
            merged_by = data.get("who")
            landing = {
                "target": data.get("target"),
                "from": data.get("from_commit"),
                "to": data.get("to_commit"),
                "who": merged_by,
                "at": e["at"],
            }
    return {
        **summary,
        "cost": run_cost(ledger, run_id),
        "ended": ended if summary["state"] in _RUN_ENDED else None,
        "approvers": sorted(
            {d["who"] for d in decisions(ledger, run_id) if d["decision"] == "approve"}
        ),
        "merged_by": merged_by,
        "landing": landing,
    }


def plan_view(ledger: Ledger, run_id: str) -> dict[str, Any]:
    """The newest plan as plain data, each task with its instruction digest."""
    plan = ledger.plan(run_id)
    data: dict[str, Any] = plan.model_dump(mode="json")
    for task, row in zip(plan.tasks, data["tasks"], strict=True):
        row["instruction_digest"] = task.instruction_digest()
    return data


def manager_summary(ledger: Ledger, run_id: str) -> dict[str, Any] | None:
    """The newest ``manager_summary`` event: summary text and proposed order with reasons."""
    found = [e for e in ledger.events(run_id) if e["kind"] == "manager_summary"]
    if not found:
        return None
    data = json.loads(found[-1]["data_json"])
    if not isinstance(data, dict):
        return None
    order = data.get("order")
    return {
        "summary": str(data.get("summary") or ""),
        "order": [
            {"task": str(o.get("task", "?")), "reason": str(o.get("reason") or "")}
            for o in (order if isinstance(order, list) else [])
            if isinstance(o, dict)
        ],
        "at": found[-1]["at"],
    }


def suite_result(ledger: Ledger, run_id: str) -> dict[str, Any] | None:
    """The full suite's newest result on the run's current integration commit, with output."""
    commit = ledger.run(run_id)["integration_commit"]
    rows = [r for r in ledger.checks(run_id) if r["kind"] == "suite" and r["commit_id"] == commit]
    if commit is None or not rows:
        return None
    r = rows[-1]
    return {
        "commit": commit,
        "name": r["name"],
        "passed": bool(r["passed"]),
        "output": r["output"],
        "duration_s": round(r["duration_s"], 3),
        "at": r["at"],
    }


def provenance(repo: Path, ledger: Ledger, run_id: str) -> list[dict[str, Any]]:
    """Each integration commit with its provenance trailers as git has them; where git cannot
    read the commit, the ledger's record of it (``source`` says which)."""
    backends = {a["id"]: a["backend"] for a in ledger.attempts(run_id)}
    plan = ledger.plan(run_id)
    out: list[dict[str, Any]] = []
    for link in ledger.integration_chain(run_id):
        trailers = _trailers(repo, link["commit_id"])
        task_id = link["task_id"]
        fallback = {
            "task": task_id,
            "attempt": link["attempt_id"],
            "worker": backends.get(link["attempt_id"], "?"),
            "instruction": "sha256:" + plan.task(task_id).instruction_digest(),
        }
        out.append(
            {
                "commit": link["commit_id"],
                "position": link["position"],
                **(trailers if trailers else fallback),
                "source": "git" if trailers else "ledger",
            }
        )
    return out


def _trailers(repo: Path, commit: str) -> dict[str, str]:
    raw = commit_trailers(repo, commit)
    found = {_TRAILER_KEYS[k]: v.strip() for k, v in raw.items() if k in _TRAILER_KEYS}
    return found if "task" in found else {}


def task_attempts(ledger: Ledger, run_id: str, task_id: str) -> list[dict[str, Any]]:
    """Every attempt of a task: its result (rationale, transcript, usage, calls, cost), the
    gate's checks with their output and the reviewers' verdicts (with per-hunk notes)."""
    verdicts = ledger.verdicts(run_id, task_id)
    accepted = ledger.accepted_attempt(run_id, task_id)
    out = []
    for a in ledger.attempts(run_id, task_id):
        result = WorkerResult.model_validate_json(a["result_json"]) if a["result_json"] else None
        out.append(
            {
                "id": a["id"],
                "number": a["number"],
                "backend": a["backend"],
                "base": a["base_commit"],
                "extra_instruction": a["extra_instruction"],
                "started": a["started_at"],
                "ended": a["ended_at"],
                "status": a["status"],
                "accepted": a["id"] == accepted,
                "result": result.model_dump(mode="json", exclude={"patch"}) if result else None,
                "cost": result_cost(result) if result else None,
                "checks": [_check_row(c) for c in ledger.checks(run_id, a["id"])],
                "verdicts": [v.model_dump(mode="json") for at, v in verdicts if at == a["id"]],
            }
        )
    return out


def _check_row(c: Any) -> dict[str, Any]:
    return {
        "name": c["name"],
        "kind": c["kind"],
        "passed": bool(c["passed"]),
        "output": c["output"],
        "duration_s": round(c["duration_s"], 3),
    }


def live_state(ledger: Ledger, run_id: str) -> dict[str, Any]:
    """What the page polls: run state, suite, each task's state and the newest event number."""
    run = ledger.run(run_id)
    states = ledger.task_states(run_id)
    events = ledger.events(run_id)
    return {
        "run": run_id,
        "state": run["state"],
        "suite_passed": None if run["suite_passed"] is None else bool(run["suite_passed"]),
        "tasks": {t: str(s) for t, s in states.items()},
        "awaiting": [t for t, s in states.items() if s == TaskState.VERIFIED],
        "seq": events[-1]["seq"] if events else 0,
    }


def review_patch(ledger: Ledger, run_id: str, task_id: str) -> dict[str, Any]:
    """The patch a reviewer should read: the accepted attempt's, else the newest attempt's that
    produced one (marked not accepted), else none."""
    accepted = ledger.accepted_attempt(run_id, task_id)
    candidates = [accepted] if accepted else [a["id"] for a in ledger.attempts(run_id, task_id)]
    for attempt_id in reversed(candidates):
        result = ledger.result(attempt_id)
        if result is not None and result.patch:
            accepted_here = attempt_id == accepted
            return {"attempt": attempt_id, "accepted": accepted_here, "patch": result.patch}
    return {"attempt": None, "accepted": False, "patch": b""}


def cost_breakdown(ledger: Ledger, run_id: str) -> dict[str, Any]:
    """Model spend of a run from its recorded calls: per task, per role and in total, with
    tokens; ``unknown_calls`` counts calls whose cost nobody reported (never counted as 0)."""
    calls = ledger.model_calls(run_id)
    by_task: dict[str, float] = {}
    by_role: dict[str, float] = {}
    tokens = {"input": 0, "output": 0, "cached": 0}
    unknown = 0
    for c in calls:
        for kind in tokens:
            tokens[kind] += c[f"{kind}_tokens"] or 0
        if c["cost_usd"] is None:
            unknown += 1
            continue
        task = c["task_id"] or "(run)"
        by_task[task] = by_task.get(task, 0.0) + c["cost_usd"]
        by_role[c["role"]] = by_role.get(c["role"], 0.0) + c["cost_usd"]
    known = len(calls) - unknown
    return {
        "calls": len(calls),
        "unknown_calls": unknown,
        "tokens": tokens,
        "total_usd": round(sum(by_role.values()), 6) if known else None,
        "by_task": by_task,
        "by_role": by_role,
    }


def task_transcripts(ledger: Ledger, run_id: str, task_id: str) -> dict[str, Any]:
    """A task's attempts with their transcripts and usage, and the reviewer's conversations."""
    if task_id not in ledger.task_states(run_id):
        raise UserError(f"run {run_id} has no task {task_id}")
    reviews = [
        {"attempt": e.attempt_id, "role": e.data.get("role"), "entries": e.data.get("entries", [])}
        for e in ledger.event_records(run_id)
        if e.kind == "transcript" and e.task_id == task_id
    ]
    return {
        "run": run_id,
        "task": task_id,
        "attempts": task_attempts(ledger, run_id, task_id),
        "reviews": reviews,
    }
