"""Read models over the ledger: what ``status``, ``log``, ``review`` and the web page show.

Plain data (dicts of JSON values) so that the CLI renders them with rich, ``--json`` dumps them
as they are, and the web page templates them: one query, three faces.
"""

from __future__ import annotations

import json
import time
from typing import Any

from crewchief.ledger import Ledger, accepted_attempt
from crewchief.lifecycle import TaskState


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
        "goal": ledger.request(run_id).goal,
        "state": run["state"],
        "target": run["target_branch"],
        "base": run["base_commit"],
        "integration": run["integration_commit"],
        "suite_passed": None if run["suite_passed"] is None else bool(run["suite_passed"]),
        "tasks": counts,
        "started": run["created_at"],
        "updated": events[-1]["at"] if events else run["created_at"],
        "approved_by": sorted({a["who"] for a in ledger.approvals(run_id)}),
    }


def task_rows(ledger: Ledger, run_id: str) -> list[dict[str, Any]]:
    """Each task with its state, attempts, last checks, verdict and timing."""
    plan = ledger.plan(run_id)
    states = ledger.task_states(run_id)
    verdicts = ledger.verdicts(run_id)
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
    attempt = accepted_attempt(ledger, run_id, task_id)
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
