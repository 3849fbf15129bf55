"""Rich renderings of the read models in ``views`` (CLI only; the core never prints)."""

from __future__ import annotations

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
            r["title"],
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
