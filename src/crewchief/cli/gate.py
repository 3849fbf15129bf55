"""Commands that read a run and take the human gate's decisions: status, log, show, review,
merge."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crewchief.cli.common import (
    JsonOpt,
    RepoOpt,
    RunArg,
    RunOpt,
    app,
    emit,
    open_run,
    out,
    repo_root,
    who,
)

if TYPE_CHECKING:
    from crewchief.config import Config
    from crewchief.ledger.store import Ledger
    from crewchief.ledger.views import RunSummary


@app.command()
def status(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    as_json: JsonOpt = False,
    all_runs: Annotated[bool, typer.Option("--all", help="List every run.")] = False,
) -> None:
    """A run's tasks, states, attempts, checks, verdicts, timings and cost (or every run).

    Cost is shown per task, per role and in total; unknown costs are said, never counted as 0.
    """
    from crewchief.ledger import views
    from crewchief.ledger.store import Ledger
    from crewchief.merge.reconcile import reconcile

    root = repo_root(repo)
    ledger = Ledger.existing(root)
    if all_runs:
        summaries = [views.run_summary(ledger, r.id) for r in ledger.runs()]
        dumped = [s.model_dump(mode="json") for s in summaries]
        emit(dumped, as_json, lambda: _print_runs_table(summaries))
        return
    rid = ledger.resolve_run(run_id)
    settled = reconcile(root, ledger, rid)
    data = views.run_status(ledger, rid, merge_reconciled=settled)

    def show() -> None:  # the rich rendering loads only when it is shown (not for --json)
        from crewchief.cli import render

        out.print(render.runs_table([data]))
        out.print(render.task_table(data.task_list))
        for line in render.reason_lines(data.task_list):
            out.print(line, markup=False, highlight=False)
        out.print(render.suite_line(data), markup=False, highlight=False)
        if settled:
            out.print(f"an interrupted merge was settled: {settled}")
        if data.unsandboxed:
            off = ", ".join(data.unsandboxed)
            out.print(f"[bold red]ran WITHOUT a sandbox (sandbox = off): {off}[/bold red]")
        out.print(render.cost_view(data.cost))

    emit(data.model_dump(mode="json"), as_json, show)


def _print_runs_table(summaries: list[RunSummary]) -> None:
    from crewchief.cli import render

    out.print(render.runs_table(summaries))


@app.command()
def log(run_id: RunArg = None, repo: RepoOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Every event of a run, in order."""
    from crewchief.ledger import views
    from crewchief.ledger.store import Ledger

    ledger = Ledger.existing(repo_root(repo))
    events = views.event_log(ledger, ledger.resolve_run(run_id))

    def show() -> None:
        from crewchief.cli import render

        for e in events:
            ids = "/".join(x for x in (e.task, e.attempt) if x) or "-"
            out.print(
                f"{render.when(e.at)}  {e.kind:<16} {ids:<30} {json.dumps(e.data)}",
                highlight=False,
                markup=False,
            )

    emit([e.model_dump(mode="json") for e in events], as_json, show)


@app.command()
def show(
    task_id: Annotated[str, typer.Argument(metavar="TASK", help="Task id.")],
    run_id: RunOpt = None,
    repo: RepoOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """A task's attempts: exact prompts, tool calls and responses, with usage.

    The reviewer's conversation about each attempt follows.
    """
    from crewchief.cli import render
    from crewchief.ledger import views

    _, ledger, rid, _ = open_run(repo, run_id)
    data = views.task_transcripts(ledger, rid, task_id).model_dump(mode="json")
    emit(data, as_json, lambda: out.print(render.transcripts_view(data)))


@app.command()
def review(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    approve_all: Annotated[
        bool, typer.Option("--approve-all", help="Approve every task that needs no person.")
    ] = False,
    approve: Annotated[
        list[str], typer.Option(metavar="TASK", help="Approve TASK (repeatable).")
    ] = [],  # noqa: B006
    reject: Annotated[
        list[str], typer.Option(metavar="TASK", help="Reject TASK (repeatable).")
    ] = [],  # noqa: B006
    send_back: Annotated[
        list[str],
        typer.Option(
            metavar="TASK", help="Reject TASK and retry it with --comment as instruction."
        ),
    ] = [],  # noqa: B006
    comment: Annotated[str, typer.Option(help="Comment recorded with decisions.")] = "",
) -> None:
    """Decide each verified task: diff, checks, the manager's summary and merge order.

    Without options it walks the tasks awaiting a decision (interactive on a terminal).
    Refuses to run inside a crewchief sandbox: a worker never decides.
    """
    from crewchief.cli import render
    from crewchief.ledger import views
    from crewchief.merge import land
    from crewchief.sandbox.confinement import refuse_inside_sandbox

    refuse_inside_sandbox("review")
    _, ledger, rid, cfg = open_run(repo, run_id)
    for t in approve:
        land.decide(ledger, rid, t, True, who(), comment)
    for t in reject:
        land.decide(ledger, rid, t, False, who(), comment)
    for t in send_back:
        land.send_back(ledger, rid, t, who(), comment)
        out.print(f"{t} goes back for another attempt: crewchief resume {rid}")
    if approve_all:
        left = land.approve_all(ledger, rid, cfg, who())
        if left:
            out.print(f"needs an explicit decision (--approve TASK): {', '.join(left)}")
    pending = views.awaiting_decision(ledger, rid)
    if approve or reject or send_back or approve_all:
        out.print(f"{len(pending)} task(s) still await a decision")
        return
    summary = views.manager_summary(ledger, rid)
    if summary is not None:
        out.print(render.summary_view(summary))
    _interactive_review(ledger, rid, cfg, pending)


def _interactive_review(ledger: Ledger, rid: str, cfg: Config, pending: list[str]) -> None:
    from crewchief.cli import render
    from crewchief.ledger import views
    from crewchief.merge import land

    rows = {r.task: r for r in views.task_rows(ledger, rid)}
    for task_id in pending:
        row = rows[task_id]
        out.rule(f"{task_id}: {row.title}")
        for c in row.checks:
            out.print(f"  {'✓' if c.passed else '✗'} {c.kind}: {c.name}")
        for reason in land.person_reasons(ledger, rid, task_id, cfg):
            out.print(f"  [yellow]needs a person: {reason}[/yellow]")
        out.print(render.diff(views.task_patch(ledger, rid, task_id)))
        if not sys.stdin.isatty():
            continue
        answer = typer.prompt("approve, reject or skip? [a/r/s]", default="s")
        if answer.lower().startswith(("a", "r")):
            note = typer.prompt("comment", default="")
            land.decide(ledger, rid, task_id, answer.lower().startswith("a"), who(), note)
    if not sys.stdin.isatty() and pending:
        out.print(f"{len(pending)} task(s) await a decision: use --approve/--reject/--approve-all")


@app.command()
def merge(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    ready: Annotated[
        bool,
        typer.Option("--ready", help="Land the green, approved prefix now; the run goes on."),
    ] = False,
) -> None:
    """Move the target branch to the tested, approved integration commit (compare-and-swap).

    Rebuilds and re-tests the approved tasks first when the tip is not their tested build.
    Exits 0 when it merged, even if some tasks were dropped (they are listed). With --ready,
    lands the green, approved prefix of the merge queue while the run goes on. Refuses to run
    inside a crewchief sandbox: a worker never merges.
    """
    from crewchief import usecase
    from crewchief.cli.runs import report
    from crewchief.merge import land
    from crewchief.sandbox.confinement import refuse_inside_sandbox

    refuse_inside_sandbox("merge")
    root, ledger, rid, cfg = open_run(repo, run_id)
    if ready:
        got = land.merge_ready(root, ledger, rid, cfg, who())
        out.print(f"merged: {got.target} {got.old[:12]} → {got.new[:12]} ({got.how})")
        out.print(f"the rest of run {rid} goes on: crewchief status {rid}")
        return
    raise typer.Exit(report(usecase.merge(root, ledger, rid, cfg, who()), merged_is_success=True))


@app.command()
def cancel(run_id: RunArg = None, repo: RepoOpt = Path(".")) -> None:
    """Abandon a run: its tasks cancelled, its integration ref and worktrees removed.

    The ledger keeps its whole history; the target branch is never touched.
    """
    from crewchief.run.cancel import cancel_run

    root, ledger, rid, _ = open_run(repo, run_id)
    done = cancel_run(root, ledger, rid, who())
    out.print(
        f"cancelled run {rid}: {len(done.tasks)} task(s) cancelled, "
        f"{'integration ref removed, ' if done.ref_removed else ''}"
        f"{done.worktrees_removed} worktree(s) removed; its history stays in the ledger"
    )
