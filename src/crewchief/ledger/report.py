"""A run's review dossier: everything a reviewer of the change needs, in one document.

``build`` reads it from the ledger and git (plain JSON data, what ``report --json`` prints and
the review page shows); ``markdown`` renders it as a pull-request description. Costs and tokens
are the ones ``status`` shows (``crewchief.ledger.cost``, in its one wording); a cost nobody
reported is unknown, never 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crewchief.ledger import cost as costs
from crewchief.ledger import views
from crewchief.ledger.store import Ledger
from crewchief.ledger.views import TaskRow

UNKNOWN = "unknown"
#: Merge-order reason when the manager proposed none.
DEFAULT_ORDER_REASON = "dependencies first, then plan order"
#: Characters of the suite's output the report carries (its end).
SUITE_TAIL = 1500


def build(repo: Path, ledger: Ledger, run_id: str) -> dict[str, Any]:
    """The dossier of ``run_id`` as plain data; every section is always present."""
    suite = views.suite_result(ledger, run_id)
    return {
        "run": views.run_summary(ledger, run_id).model_dump(mode="json"),
        "plan": views.plan_view(ledger, run_id).model_dump(mode="json"),
        "tasks": [_task(ledger, run_id, t) for t in views.task_rows(ledger, run_id)],
        "suite": None
        if suite is None
        else {**suite.model_dump(mode="json"), "output": suite.output[-SUITE_TAIL:]},
        "merge_order": _merge_order(ledger, run_id),
        "provenance": [
            row.model_dump(mode="json") for row in views.provenance(repo, ledger, run_id)
        ],
        "cost": views.cost_breakdown(ledger, run_id).model_dump(mode="json"),
    }


def _task(ledger: Ledger, run_id: str, row: TaskRow) -> dict[str, Any]:
    task = ledger.plan(run_id).task(row.task)
    spent = costs.summarise(ledger.model_calls(run_id), task_id=task.id)
    attempts = views.task_attempts(ledger, run_id, task.id)
    shown = next((a for a in attempts if a.accepted), attempts[-1] if attempts else None)
    result = shown.result if shown else None
    return {
        "task": task.id,
        "title": task.title,
        "state": str(row.state),
        "instructions": task.instructions,
        "owned_paths": list(task.owned_paths),
        "depends_on": list(task.depends_on),
        "attempts": len(attempts),
        "attempt": shown.id if shown else None,
        "rationale": result.rationale if result else "",
        "assumptions": list(result.assumptions) if result else [],
        "checks": [
            c.model_dump(mode="json", include={"name", "kind", "passed", "duration_s"})
            for c in (shown.checks if shown else [])
        ],
        "verdicts": [
            {"attempt": a.id, **v.model_dump(mode="json")} for a in attempts for v in a.verdicts
        ],
        "tokens": spent.tokens.model_dump(mode="json"),
        "cost_usd": spent.total_usd,
        "cost": spent.text,
    }


def _merge_order(ledger: Ledger, run_id: str) -> list[dict[str, Any]]:
    summary = views.manager_summary(ledger, run_id)
    reasons = {o.task: o.reason for o in summary.order} if summary else {}
    return [
        {**link.model_dump(mode="json"), "reason": reasons.get(link.task) or DEFAULT_ORDER_REASON}
        for link in views.merge_order(ledger, run_id)
    ]


# -- Markdown ------------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    """The dossier as Markdown (a pull request's description)."""
    parts = [
        _head(report),
        _plan(report),
        *(_task_md(t) for t in report["tasks"]),
        _suite(report),
        _order(report),
        _provenance(report),
    ]
    return "\n\n".join(parts) + "\n"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _head(report: dict[str, Any]) -> str:
    run, cost = report["run"], report["cost"]
    tokens = cost["tokens"]
    return "\n".join(
        [
            f"# {run['goal']}",
            "",
            f"crewchief run `{run['run']}`: **{run['state']}**; target `{run['target']}` "
            f"from `{str(run['base'])[:12]}`.",
            f"Model calls: {cost['calls']}; tokens in {tokens['input']}, out {tokens['output']}, "
            f"cached {tokens['cached']}; cost: {cost['text']}.",
        ]
    )


def _plan(report: dict[str, Any]) -> str:
    plan = report["plan"]
    lines = ["## Plan", "", f"Planned by {plan['planner']}.", ""]
    lines += ["| task | title | owns | depends on | risk |", "|---|---|---|---|---|"]
    for t in plan["tasks"]:
        lines.append(
            f"| {t['id']} | {_cell(t['title'])} | {_cell(', '.join(t['owned_paths']))} | "
            f"{', '.join(t['depends_on']) or '-'} | {t['risk']} |"
        )
    for label, key in (("Risk", "risks"), ("Open question", "open_questions")):
        lines += [f"- {label}: {item}" for item in plan.get(key, [])]
    return "\n".join(lines)


def _task_md(t: dict[str, Any]) -> str:
    lines = [
        f"## Task {t['task']}: {t['title']}",
        "",
        f"State **{t['state']}** after {t['attempts']} attempt(s); "
        f"owns {', '.join(f'`{p}`' for p in t['owned_paths'])}.",
        "",
        "Instruction:",
        "",
        *(f"> {line}" for line in t["instructions"].splitlines() or [""]),
        "",
        f"Worker's rationale: {t['rationale'] or '(none given)'}",
    ]
    lines += [f"- assumption: {a}" for a in t["assumptions"]]
    lines += ["", "Gate (checks run on the accepted attempt):", ""]
    for c in t["checks"]:
        lines.append(f"- {'pass' if c['passed'] else 'FAIL'} {c['kind']}: `{c['name']}`")
    if not t["checks"]:
        lines.append("- no check ran")
    lines += ["", "Verdicts:", ""]
    for v in t["verdicts"]:
        why = "; ".join(v["reasons"])
        lines.append(f"- {v['attempt']}: **{v['decision']}** by {v['reviewer']}: {why}")
    if not t["verdicts"]:
        lines.append("- none")
    tokens = t["tokens"]
    lines += [
        "",
        f"Tokens: in {tokens['input']}, out {tokens['output']}, cached {tokens['cached']}; "
        f"cost: {t['cost']}.",
    ]
    return "\n".join(lines)


def _suite(report: dict[str, Any]) -> str:
    suite = report["suite"]
    if suite is None:
        return "## Full suite\n\nNot run on the current integration commit."
    verdict = "green" if suite["passed"] else "red"
    return (
        f"## Full suite\n\n**{verdict}** on `{suite['commit']}` (`{suite['name']}`, "
        f"{suite['duration_s']}s)."
    )


def _order(report: dict[str, Any]) -> str:
    lines = ["## Merge order", ""]
    for i, link in enumerate(report["merge_order"], 1):
        lines.append(f"{i}. {link['task']} `{link['commit'][:12]}`: {link['reason']}")
    if not report["merge_order"]:
        lines.append("Nothing integrated.")
    return "\n".join(lines)


def _provenance(report: dict[str, Any]) -> str:
    lines = [
        "## Provenance",
        "",
        "| commit | task | attempt | worker | model | instruction |",
        "|---|---|---|---|---|---|",
    ]
    for p in report["provenance"]:
        lines.append(
            f"| `{p['commit'][:12]}` | {p['task']} | {p['attempt']} "
            f"| {_cell(p['worker'])} | {_cell(p['model'] or UNKNOWN)} "
            f"| `{_cell(p['instruction'])[:19]}` |"
        )
    return "\n".join(lines)
