"""Rich renderings of the read models in ``views`` (CLI only; the core never prints)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from crewchief import views
from crewchief.doctor import DoctorReport
from crewchief.ledger import Ledger
from crewchief.provenance import LineOrigin
from crewchief.records import Plan

STATE_STYLE = {
    "planned": "dim",
    "ready": "cyan",
    "running": "yellow",
    "produced": "yellow",
    "verified": "green",
    "approved": "bold green",
    "merged": "bold blue",
    "rejected": "red",
    "failed": "bold red",
    "blocked": "magenta",
    "conflicted": "magenta",
    "cancelled": "dim",
}


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def plan_table(plan: Plan) -> Table:
    table = Table(title=f"Plan ({plan.planner}): {len(plan.tasks)} tasks", title_justify="left")
    table.add_column("task", no_wrap=True)
    table.add_column("title", overflow="ellipsis", no_wrap=True, ratio=2)
    table.add_column("owns", overflow="ellipsis", ratio=1)
    for col in ("after", "risk"):
        table.add_column(col, no_wrap=True)
    for t in plan.tasks:
        owned = ", ".join(t.owned_paths[:3]) + (
            f" +{len(t.owned_paths) - 3}" if len(t.owned_paths) > 3 else ""
        )
        table.add_row(t.id, t.title, owned, ", ".join(t.depends_on) or "-", t.risk)
    return table


def task_table(rows: list[dict[str, Any]], title: str = "") -> Table:
    table = Table(title=title or None, title_justify="left")
    for col in ("task", "state", "att", "checks", "verdict", "secs"):
        table.add_column(col, no_wrap=True, min_width=len(col))
    table.add_column("title", overflow="ellipsis", no_wrap=True, ratio=1)
    for r in rows:
        checks = r["checks"]
        passed = sum(1 for c in checks if c["passed"])
        check_text = f"{passed}/{len(checks)}" if checks else "-"
        secs = "-" if r["seconds"] is None else f"{r['seconds']:.1f}"
        table.add_row(
            r["task"],
            Text(r["state"], style=STATE_STYLE.get(r["state"], "")),
            str(r["attempts"]),
            check_text,
            r["verdict"] or "-",
            secs,
            Text(f"[{r['group']}] {r['title']}") if r.get("group") else r["title"],
        )
    return table


def runs_table(summaries: list[dict[str, Any]]) -> Table:
    table = Table(title="Runs", title_justify="left")
    for col in ("run", "state", "tasks", "target", "started", "goal"):
        table.add_column(col)
    for s in summaries:
        counts = " ".join(f"{k}:{v}" for k, v in sorted(s["tasks"].items()))
        table.add_row(
            s["run"],
            Text(s["state"], style=STATE_STYLE.get(s["state"], "")),
            counts,
            s["target"],
            when(s["started"]),
            s["goal"][:60],
        )
    return table


def diff(patch: bytes) -> Syntax:
    return Syntax(
        patch.decode("utf-8", errors="replace"), "diff", theme="ansi_dark", word_wrap=False
    )


class LiveTasks:
    """A renderable that re-queries the ledger on every refresh (from rich's refresh thread, so
    it opens its own SQLite connection there)."""

    def __init__(self, db_path: Path, run_id: str) -> None:
        self.db_path, self.run_id = db_path, run_id
        self._ledger: Ledger | None = None
        self._t0 = time.monotonic()

    def __call__(self) -> RenderableType:
        if self._ledger is None:
            self._ledger = Ledger(self.db_path)
        rows = views.task_rows(self._ledger, self.run_id)
        state = self._ledger.run(self.run_id)["state"]
        head = Text(f"run {self.run_id}: {state}  ({time.monotonic() - self._t0:.1f}s)")
        return Group(head, task_table(rows))

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


LEVEL_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor_view(report: DoctorReport) -> Group:
    """The doctor's findings, the sandbox's protections and the recommendation."""
    table = Table(title="crewchief doctor", title_justify="left")
    for col in ("check", "", "detail"):
        table.add_column(col)
    for f in report.findings:
        table.add_row(f.name, Text(f.level, style=LEVEL_STYLE[f.level]), f.detail)
    box = report.sandbox
    active = [
        name
        for name, on in (
            ("filesystem read-only outside the worktree", box.filesystem_read_only),
            ("repository .git read-only", box.git_metadata_read_only),
            ("network off", box.network_isolated),
            ("own PID namespace", box.pid_namespace),
            ("scrubbed environment", box.env_scrubbed),
        )
        if on
    ]
    lines = [Text(f"sandbox ({box.bwrap or 'no bubblewrap'}): " + (", ".join(active) or "none"))]
    lines += [Text(f"  not enforced: {n}", style="yellow") for n in box.not_enforced]
    lines.append(Text(report.recommendation, style="bold"))
    return Group(table, *lines)


def cost_view(cost: dict[str, Any]) -> Text:
    """One line: total, per role, per task; unknown costs said as such, never shown as 0."""
    if not cost["calls"]:
        return Text("cost: no model calls")
    total = "unknown" if cost["total_usd"] is None else f"${cost['total_usd']:.4f}"
    roles = ", ".join(f"{r} ${v:.4f}" for r, v in sorted(cost["by_role"].items()))
    tasks = ", ".join(f"{t} ${v:.4f}" for t, v in sorted(cost["by_task"].items()))
    tok = cost["tokens"]
    text = (
        f"cost: {total} over {cost['calls']} model calls "
        f"({tok['input']} in / {tok['output']} out / {tok['cached']} cached tokens)"
    )
    if cost["unknown_calls"]:
        text += f"; {cost['unknown_calls']} call(s) of unknown cost"
    return Text(
        text
        + (f"\n  by role: {roles}" if roles else "")
        + (f"\n  by task: {tasks}" if tasks else "")
    )


def summary_view(summary: dict[str, Any]) -> Group:
    """The manager's summary of the change set and its proposed merge order with reasons."""
    lines = [Text("manager's summary", style="bold"), Text(summary["summary"])]
    lines.append(Text("proposed merge order", style="bold"))
    lines += [Text(f"  {i}. {s['task']}: {s['reason']}") for i, s in enumerate(summary["order"], 1)]
    return Group(*lines)


def transcripts_view(data: dict[str, Any]) -> Group:
    """Each attempt's exact conversation (prompts, tool calls, results, responses) and usage."""
    parts: list[RenderableType] = []
    for a in data["attempts"]:
        parts.append(
            Text(
                f"── attempt {a['number']} ({a['id']}) {a['status'] or 'running'} "
                f"via {a['backend']}",
                style="bold",
            )
        )
        result = a["result"] or {}
        parts.append(Text(f"usage: {json.dumps(result.get('usage', {}))}; cost: {_usd(a['cost'])}"))
        parts += _entries(result.get("transcript", []))
        if not result.get("transcript"):
            parts.append(
                Text("(no transcript: this backend does not converse with a model)", style="dim")
            )
    for r in data["reviews"]:
        parts.append(Text(f"── {r['role']} on {r['attempt'] or 'the run'}", style="bold"))
        parts += _entries(r["entries"])
    return Group(*parts)


def _entries(entries: list[dict[str, Any]]) -> list[RenderableType]:
    out: list[RenderableType] = []
    for e in entries:
        label = e["kind"] + (f" {e['tool']}" if e.get("tool") else "")
        out.append(Text(f"[{label}]", style="cyan"))
        out.append(Text(e["content"]))
    return out


def blame_view(origins: list[LineOrigin]) -> Group:
    """Lines with their origin, then each task once with its instruction and digest check."""
    parts: list[RenderableType] = []
    for o in origins:
        who = f"{o.run} {o.task} {o.worker}" if o.run else "(not crewchief)"
        parts.append(Text(f"{o.line:>5} {o.commit[:10]} {who:<45} {o.text}"))
    check = {True: "matches", False: "DOES NOT MATCH", None: "not in ledger"}
    for o in {o.attempt: o for o in origins if o.run}.values():
        model = f", model {o.model}" if o.model else ""
        parts.append(
            Text(
                f"\n{o.task} ({o.attempt}{model}): {o.title}\n  instruction digest "
                f"{(o.instruction_digest or '')[:16]}… {check[o.digest_matches]}\n"
                f"  {o.instructions}"
            )
        )
    return Group(*parts)


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"
