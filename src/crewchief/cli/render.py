"""Rich renderings of the read models in ``views`` (CLI only; the core never prints)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from crewchief.ledger import views
from crewchief.ledger.cost import CostSummary, usd
from crewchief.ledger.redact import redact
from crewchief.ledger.store import Ledger
from crewchief.ledger.views import ManagerSummary, RunStatus, RunSummary, TaskRow
from crewchief.records import Plan

if TYPE_CHECKING:
    from rich.syntax import Syntax

    from crewchief.cli.doctor import DoctorReport
    from crewchief.ledger.provenance import LineOrigin

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
    "no_change": "dim green",
}


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


class Fitted:
    """A table whose id, state and path cells are never cut: the ``wrap`` columns (titles,
    goals, paths lists) wrap to the terminal; the others keep their full width. When even those
    do not fit, each row is shown as ``column: value`` lines instead."""

    def __init__(
        self, title: str | None, columns: list[str], rows: list[list[str | Text]], wrap: set[str]
    ) -> None:
        self.title, self.columns, self.rows, self.wrap = title, columns, rows, wrap

    def _natural(self, i: int) -> int:
        cells = [self.columns[i], *(str(r[i]) for r in self.rows)]
        return max(len(line) for c in cells for line in c.splitlines() or [""])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        fixed = [i for i, c in enumerate(self.columns) if c not in self.wrap]
        needed = sum(self._natural(i) + 3 for i in fixed) + 1 + _MIN_WRAP * len(self.wrap)
        if needed > options.max_width:
            yield from self._stacked()
            return
        table = Table(title=self.title, title_justify="left")
        for i, col in enumerate(self.columns):
            if col in self.wrap:
                table.add_column(col, overflow="fold", ratio=1)
            else:
                table.add_column(col, no_wrap=True, min_width=self._natural(i))
        for row in self.rows:  # cells are plain text, never rich markup ("[group] title")
            table.add_row(*(c if isinstance(c, Text) else Text(c) for c in row))
        yield table

    def _stacked(self) -> RenderResult:
        if self.title:
            yield Text(self.title, style="italic")
        for row in self.rows:
            head, *rest = zip(self.columns, row, strict=True)
            yield Text.assemble((f"{head[0]}: ", "bold"), head[1])
            for col, cell in rest:
                yield Text.assemble(f"  {col}: ", cell)


#: Below this many columns for a wrapping column, a table is shown as stacked lines instead.
_MIN_WRAP = 12


def plan_table(plan: Plan) -> Fitted:
    rows: list[list[str | Text]] = [
        # A plan file is anyone's text: its titles are shown as the ledger stores them.
        [t.id, redact(t.title), ", ".join(t.owned_paths), ", ".join(t.depends_on) or "-", t.risk]
        for t in plan.tasks
    ]
    return Fitted(
        f"Plan ({plan.planner}): {len(plan.tasks)} tasks",
        ["task", "title", "owns", "after", "risk"],
        rows,
        wrap={"title", "owns"},
    )


def task_table(rows: list[TaskRow], title: str = "") -> Fitted:
    cells: list[list[str | Text]] = []
    for r in rows:
        passed = sum(1 for c in r.checks if c.passed)
        check_text = f"{passed}/{len(r.checks)}" if r.checks else "-"
        secs = "-" if r.seconds is None else f"{r.seconds:.1f}"
        cells.append(
            [
                r.task,
                Text(r.state, style=STATE_STYLE.get(r.state, "")),
                str(r.attempts),
                check_text,
                r.verdict or "-",
                secs,
                f"[{r.group}] {r.title}" if r.group else r.title,
            ]
        )
    columns = ["task", "state", "att", "checks", "verdict", "secs", "title"]
    return Fitted(title or None, columns, cells, wrap={"title"})


def reason_lines(rows: list[TaskRow]) -> list[str]:
    """One line per task that did not make it (or needed no change): why."""
    quiet = {"approved", "merged", "ready", "running", "planned", "produced"}
    return [f"  {r.task}: {r.state}: {r.reason}" for r in rows if r.reason and r.state not in quiet]


def suite_line(data: RunStatus) -> str:
    """The suite's result on the commit on the gate, and whether the suite was proven."""
    suite = {None: "not run", True: "green", False: "red"}[data.suite_passed]
    line = f"integration {(data.integration or '-')[:12]}  full suite: {suite}"
    trust = data.suite_trust
    if trust is None:
        return line
    if trust.trusted and not trust.probed:
        return f"{line}  (green on the base; sensitivity probe off: suite_probe = false)"
    if trust.trusted:
        cached = " (probe cached)" if trust.probe_cached else ""
        return f"{line}  (green on the base, sensitive to breakage{cached})"
    problem = (trust.problem or "").splitlines()
    return f"{line}\nsuite not trusted: {problem[0] if problem else '?'}"


def runs_table(summaries: list[RunSummary]) -> Fitted:
    rows: list[list[str | Text]] = []
    for s in summaries:
        counts = " ".join(f"{k}:{v}" for k, v in sorted(s.tasks.items()))
        rows.append(
            [
                s.run,
                Text(s.state, style=STATE_STYLE.get(s.state, "")),
                counts,
                s.target,
                when(s.started),
                s.goal,
            ]
        )
    columns = ["run", "state", "tasks", "target", "started", "goal"]
    return Fitted("Runs", columns, rows, wrap={"tasks", "goal"})


def diff(patch: bytes) -> Syntax:
    from rich.syntax import Syntax  # pygments: loaded by the commands that show a diff

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
        state = self._ledger.run(self.run_id).state
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
            (f"network (by default): {box.network}", box.network_isolated),
            ("own PID namespace", box.pid_namespace),
            ("scrubbed environment", box.env_scrubbed),
        )
        if on
    ]
    lines = [Text(f"sandbox ({box.bwrap or 'no bubblewrap'}): " + (", ".join(active) or "none"))]
    lines += [Text(f"  agent {a.name}: {a.sandbox}") for a in report.agents if a.sandbox]
    lines += [Text(f"  not enforced: {n}", style="yellow") for n in box.not_enforced]
    lines.append(Text(report.recommendation, style="bold"))
    return Group(table, *lines)


def cost_view(cost: CostSummary) -> Text:
    """One line: total, per role, per task; unknown costs said as such, never shown as 0."""
    if not cost.calls:
        return Text(f"cost: {cost.text}")
    roles = ", ".join(f"{r} {usd(v)}" for r, v in sorted(cost.by_role.items()))
    tasks = ", ".join(f"{t} {usd(v)}" for t, v in sorted(cost.by_task.items()))
    tok = cost.tokens
    text = (
        f"cost: {cost.text}; {cost.calls} model calls, tokens "
        f"{tok.input} in / {tok.output} out / {tok.cached} cached"
    )
    return Text(
        text
        + (f"\n  by role: {roles}" if roles else "")
        + (f"\n  by task: {tasks}" if tasks else "")
    )


def summary_view(summary: ManagerSummary) -> Group:
    """The manager's summary of the change set and its proposed merge order with reasons."""
    lines = [Text("manager's summary", style="bold"), Text(summary.summary)]
    lines.append(Text("proposed merge order", style="bold"))
    lines += [Text(f"  {i}. {s.task}: {s.reason}") for i, s in enumerate(summary.order, 1)]
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
    return "unknown" if value is None else usd(value)
