"""Commands that start and drive runs: init, plan, run, resume. Each parses its options, calls
the core (``crewchief.usecase``) and renders what comes back; the outcome's exit code is
``exit_code``'s."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crewchief.cli.common import RepoOpt, RunArg, app, err, open_run, out, repo_root, who
from crewchief.cli.options import ChangeOptions, takes
from crewchief.errors import UserError

if TYPE_CHECKING:
    from crewchief.config import Config
    from crewchief.gate.verify import Reviewer
    from crewchief.ledger.store import Ledger
    from crewchief.records import Plan
    from crewchief.usecase import Outcome


@app.command()
def init(
    repo: RepoOpt = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    architecture: Annotated[
        bool, typer.Option(help="Write an ARCHITECTURE.md skeleton when there is none.")
    ] = True,
) -> None:
    """Detect language, test and check commands; write a documented crewchief.toml.

    Also writes an ARCHITECTURE.md skeleton for the manager to read when there is none.
    """
    from crewchief import config as config_mod
    from crewchief.intel.summary import write_architecture_skeleton

    root = repo_root(repo)
    path = root / config_mod.CONFIG_FILE
    if path.exists() and not force:
        raise UserError(f"{path} exists (use --force to overwrite)")
    cfg = config_mod.detect(root)
    path.write_text(config_mod.render_toml(cfg))
    out.print(
        f"wrote {path}: language={cfg.language or '?'}, "
        f"test_command={cfg.test_command or '(none found: set it)'}"
    )
    skeleton = write_architecture_skeleton(root) if architecture else None
    if skeleton is not None:
        out.print(f"wrote {skeleton}: a skeleton of the architecture summary; edit it")


def show_plan(plan: Plan, conflicts: tuple[str, ...], held: tuple[str, ...]) -> None:
    from crewchief.cli import render

    out.print(render.plan_table(plan))
    for warning in conflicts:
        out.print(f"[yellow]predicted conflict:[/yellow] {warning}")
    if held:
        names = ", ".join(f"{t} (risk {plan.task(t).risk})" for t in held)
        out.print(f"left for people (above worker_risk_levels): {names}")
    for label, items in (("risk", plan.risks), ("open question", plan.open_questions)):
        for item in items:
            out.print(f"{label}: {item}", highlight=False, markup=False)


@app.command("plan")
@takes("change", ChangeOptions)
def plan_cmd(
    change: ChangeOptions,
    out_file: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Where to write the plan.")
    ] = Path("crewchief-plan.json"),
    repo: RepoOpt = Path("."),
) -> None:
    """Plan only: print the plan and write it to a file to edit and run with --plan.

    Shows tasks, risks and open questions; no worker runs.
    """
    from crewchief import config as config_mod
    from crewchief import usecase

    root = repo_root(repo)
    planned = usecase.plan_change(root, config_mod.load(root), change.change())
    show_plan(planned.plan, planned.conflicts, planned.held)
    if planned.recorded_run is not None:
        out.print(
            f"planning recorded as run {planned.recorded_run} (state planned; it runs nothing)"
        )
    out_file.write_text(planned.plan.model_dump_json(indent=2) + "\n")
    out.print(f"wrote {out_file}: edit it, then `crewchief run --plan {out_file}`")


@app.command()
@takes("change", ChangeOptions)
def run(
    change: ChangeOptions,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", metavar="FILE", help="Run this plan file.")
    ] = None,
    workers: Annotated[int | None, typer.Option(metavar="N", help="Attempts at once.")] = None,
    timeout: Annotated[
        float | None, typer.Option(metavar="SECONDS", help="Seconds per attempt.")
    ] = None,
    test_command: Annotated[
        str | None, typer.Option(metavar="SHELL", help="Full test suite command.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(metavar="BRANCH", help="Branch to merge into.")
    ] = None,
    run_budget: Annotated[
        float | None, typer.Option(metavar="USD", help="USD limit for the run.")
    ] = None,
    task_budget: Annotated[
        float | None, typer.Option(metavar="USD", help="USD limit per task.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve and merge unattended.")] = False,
    repo: RepoOpt = Path("."),
) -> None:
    """Plan a change and run it: dispatch, gate, review, integrate, full suite.

    With --yes it also approves and merges, but never protected paths or high-risk tasks.
    """
    from crewchief import config as config_mod
    from crewchief import usecase

    root = repo_root(repo)
    flags = {
        "workers": workers,
        "task_timeout_s": timeout,
        "test_command": test_command,
        "target_branch": target,
        "run_budget_usd": run_budget,
        "task_budget_usd": task_budget,
    }
    cfg = config_mod.load(root, flags)
    started = usecase.start_change(root, cfg, change.change(plan_file))
    show_plan(started.plan, started.conflicts, started.held)
    code = drive_and_report(root, started.ledger, started.run_id, cfg, yes, started.reviewer)
    raise typer.Exit(code)


@app.command()
def resume(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    run_budget: Annotated[
        float | None, typer.Option(metavar="USD", help="New USD limit for the run.")
    ] = None,
    task_budget: Annotated[
        float | None, typer.Option(metavar="USD", help="New USD limit per task.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Approve and merge unattended when it is green.")
    ] = False,
) -> None:
    """Continue an interrupted, killed or budget-paused run; finished attempts are not redone."""
    from crewchief import usecase

    root, ledger, rid, cfg = open_run(repo, run_id)
    reopened = usecase.reopen_run(root, ledger, rid, cfg, run_budget, task_budget)
    if reopened is None:
        out.print(f"run {rid}: its merge had landed before an interruption; now recorded")
        return
    raise typer.Exit(drive_and_report(root, ledger, rid, reopened.cfg, yes, reopened.reviewer))


def drive_and_report(
    root: Path,
    ledger: Ledger,
    run_id: str,
    cfg: Config,
    yes: bool,
    reviewer: Reviewer | None = None,
) -> int:
    """Drive the run with a live task table, finish it (with ``yes``: approve what needs no
    person and merge), render the outcome; returns the exit code (``exit_code``)."""
    from rich.live import Live

    from crewchief import usecase
    from crewchief.cli import render
    from crewchief.ledger import views

    live_view = render.LiveTasks(ledger.path, run_id)
    try:
        with Live(
            get_renderable=live_view,
            console=out,
            refresh_per_second=4,
            transient=not out.is_terminal,
        ):
            state = usecase.drive(root, ledger, run_id, cfg, reviewer)
    except KeyboardInterrupt:
        err.print(f"interrupted: resume with `crewchief resume {run_id}`")
        raise typer.Exit(130) from None
    finally:
        live_view.close()
    out.print(render.task_table(views.task_rows(ledger, run_id), title=f"run {run_id}: {state}"))
    return report(usecase.finish(root, ledger, run_id, cfg, who(), approve=yes))


def report(outcome: Outcome, merged_is_success: bool = False) -> int:
    """Say what happened and what comes next; the exit code: 1 when the run failed, was held or
    paused, or a task did not make it, else 0. With ``merged_is_success`` (``merge``), a merged
    run exits 0 whatever was dropped; ``run --yes`` keeps exiting 1 when a task did not make it,
    for unattended pipelines."""
    from crewchief.lifecycle import RunState

    rid, state = outcome.run_id, outcome.state
    if outcome.needs_person:
        out.print(f"needs a person: {', '.join(outcome.needs_person)} (crewchief review {rid})")
    if outcome.landing is not None:
        got = outcome.landing
        out.print(f"merged: {got.target} {got.old[:12]} → {got.new[:12]} ({got.how})")
    if outcome.merged and outcome.dropped:
        out.print(f"not merged (see crewchief status {rid}): {', '.join(outcome.dropped)}")
    if outcome.merged and merged_is_success:
        return 0
    if state == RunState.AWAITING_APPROVAL:
        out.print(f"next: crewchief review {rid}  then  crewchief merge {rid}")
    if outcome.paused is not None:
        out.print(
            f"[yellow]paused: {outcome.paused}[/yellow]; nothing is lost. Resume with "
            f"`crewchief resume {rid} --run-budget … --task-budget …`"
        )
        return 1
    if outcome.reason is not None:
        word = "held" if state == RunState.INTERRUPTED else "failed"
        out.print(f"{word}: {outcome.reason}", style="red", markup=False, highlight=False)
        if state == RunState.INTERRUPTED:
            out.print(f"nothing is lost: fix the cause, then `crewchief resume {rid}`")
        return 1
    if state == RunState.FAILED or outcome.dropped:
        out.print(
            f"[red]{len(outcome.dropped)} task(s) did not make it; run {rid} is {state}[/red]"
        )
        return 1
    return 0
