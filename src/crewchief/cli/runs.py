"""Commands that start and drive runs: init, plan, run, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import JsonValue
from rich.live import Live

from crewchief import config as config_mod
from crewchief import usecase
from crewchief.cli import render
from crewchief.cli.common import RepoOpt, RunArg, app, err, open_run, out, repo_root, who
from crewchief.errors import UserError
from crewchief.gate.verify import Reviewer
from crewchief.ledger import views
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.merge import land
from crewchief.records import ChangeRequest, Plan
from crewchief.run.intake import load_plan_file
from crewchief.run.plan import predicted_conflicts


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


def _recipe_args(
    lang: str | None,
    pattern: str | None,
    rewrite: str | None,
    split: str | None,
    command: str | None,
    paths: list[str],
    args: list[str],
) -> dict[str, JsonValue]:
    found: dict[str, JsonValue] = {
        "lang": lang,
        "pattern": pattern,
        "rewrite": rewrite,
        "split": split,
        "command": command,
        "paths": list(paths) or None,
    }
    for item in args:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--arg {item!r}: expected KEY=VALUE")
        try:
            found[key] = json.loads(value)
        except json.JSONDecodeError:
            found[key] = value
    return {k: v for k, v in found.items() if v is not None}


GoalArg = Annotated[str | None, typer.Argument(help="What to change (the manager plans it).")]
FocusOpt = Annotated[
    list[str], typer.Option("--focus", metavar="PATH", help="Paths the change is about.")
]
RecipeOpt = Annotated[str | None, typer.Option(help="Deterministic recipe: codemod, command.")]
LangOpt = Annotated[str | None, typer.Option(help="codemod: language of the pattern.")]
PatternOpt = Annotated[str | None, typer.Option(help="codemod: ast-grep pattern.")]
RewriteOpt = Annotated[str | None, typer.Option(help="codemod: rewrite template.")]
CommandOpt = Annotated[str | None, typer.Option(help="command: shell command; {files} = files.")]
SplitOpt = Annotated[str | None, typer.Option(help="One task per file|dir|package.")]
PathsOpt = Annotated[
    list[str], typer.Option("--path", metavar="GLOB", help="Limit to these paths or globs.")
]
ArgOpt = Annotated[
    list[str], typer.Option("--arg", metavar="KEY=VALUE", help="Extra recipe argument.")
]


def _request(
    goal: str | None, focus: list[str], recipe: str | None, args: dict[str, JsonValue]
) -> ChangeRequest:
    if recipe is not None:
        text = goal or f"{recipe}: {json.dumps(args)}"
        return ChangeRequest(goal=text, recipe=recipe, recipe_args=args, focus=tuple(focus))
    if not goal:
        raise UserError("say what to change (a GOAL for the manager), or pass --recipe or --plan")
    return ChangeRequest(goal=goal, focus=tuple(focus))


def _show_plan(plan: Plan, cfg: config_mod.Config) -> None:
    out.print(render.plan_table(plan))
    for warning in predicted_conflicts(plan):
        out.print(f"[yellow]predicted conflict:[/yellow] {warning}")
    held = [f"{t.id} (risk {t.risk})" for t in plan.tasks if t.risk not in cfg.worker_risk_levels]
    if held:
        out.print(f"left for people (above worker_risk_levels): {', '.join(held)}")
    for label, items in (("risk", plan.risks), ("open question", plan.open_questions)):
        for item in items:
            out.print(f"{label}: {item}", highlight=False, markup=False)


@app.command("plan")
def plan_cmd(
    goal: GoalArg = None,
    focus: FocusOpt = [],  # noqa: B006
    recipe: RecipeOpt = None,
    lang: LangOpt = None,
    pattern: PatternOpt = None,
    rewrite: RewriteOpt = None,
    command: CommandOpt = None,
    split: SplitOpt = None,
    paths: PathsOpt = [],  # noqa: B006
    arg: ArgOpt = [],  # noqa: B006
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the plan.")] = Path(
        "crewchief-plan.json"
    ),
    repo: RepoOpt = Path("."),
) -> None:
    """Plan only: print the plan and write it to a file to edit and run with --plan.

    Shows tasks, risks and open questions; no worker runs.
    """
    root = repo_root(repo)
    cfg = config_mod.load(root)
    args = _recipe_args(lang, pattern, rewrite, split, command, paths, arg)
    request = _request(goal, focus, recipe, args)
    plan, planner = usecase.plan_request(root, request, cfg)
    _show_plan(plan, cfg)
    if getattr(planner, "calls", None):
        ledger = Ledger.for_repo(root)
        run_id = ledger.create_run(request, "", "", cfg.model_dump_json())
        ledger.record_plan(run_id, plan)
        usecase.record_planning(ledger, run_id, planner)
        out.print(f"planning recorded as run {run_id} (state planned; it runs nothing)")
    out_file.write_text(plan.model_dump_json(indent=2) + "\n")
    out.print(f"wrote {out_file}: edit it, then `crewchief run --plan {out_file}`")


@app.command()
def run(
    goal: GoalArg = None,
    focus: FocusOpt = [],  # noqa: B006
    recipe: RecipeOpt = None,
    lang: LangOpt = None,
    pattern: PatternOpt = None,
    rewrite: RewriteOpt = None,
    command: CommandOpt = None,
    split: SplitOpt = None,
    paths: PathsOpt = [],  # noqa: B006
    arg: ArgOpt = [],  # noqa: B006
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Run this plan file.")] = None,
    workers: Annotated[int | None, typer.Option(help="Attempts at once.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per attempt.")] = None,
    test_command: Annotated[str | None, typer.Option(help="Full test suite command.")] = None,
    target: Annotated[str | None, typer.Option(help="Branch to merge into.")] = None,
    run_budget: Annotated[float | None, typer.Option(help="USD limit for the run.")] = None,
    task_budget: Annotated[float | None, typer.Option(help="USD limit per task.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve and merge unattended.")] = False,
    repo: RepoOpt = Path("."),
) -> None:
    """Plan a change and run it: dispatch, gate, review, integrate, full suite.

    With --yes it also approves and merges, but never protected paths or high-risk tasks.
    """
    root = repo_root(repo)
    cfg = config_mod.load(
        root,
        {
            "workers": workers,
            "task_timeout_s": timeout,
            "test_command": test_command,
            "target_branch": target,
            "run_budget_usd": run_budget,
            "task_budget_usd": task_budget,
        },
    )
    plan: Plan | None = None
    if plan_file is not None:
        plan = load_plan_file(plan_file, cfg)
        request = ChangeRequest(goal=goal or plan.goal, focus=tuple(focus))
    else:
        request = _request(
            goal, focus, recipe, _recipe_args(lang, pattern, rewrite, split, command, paths, arg)
        )
    started = usecase.start_run(root, cfg, request, plan)
    _show_plan(started.plan, cfg)
    drive_and_finish(root, started.ledger, started.run_id, cfg, yes, started.reviewer)


@app.command()
def resume(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    run_budget: Annotated[float | None, typer.Option(help="New USD limit for the run.")] = None,
    task_budget: Annotated[float | None, typer.Option(help="New USD limit per task.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y")] = False,
) -> None:
    """Continue an interrupted, killed or budget-paused run; finished attempts are not redone."""
    root, ledger, rid, cfg = open_run(repo, run_id)
    if land.reconcile(root, ledger, rid) == "merged":
        out.print(f"run {rid}: its merge had landed before an interruption; now recorded")
        return
    changed = {
        k: v
        for k, v in (("run_budget_usd", run_budget), ("task_budget_usd", task_budget))
        if v is not None
    }
    if changed:
        cfg = cfg.model_copy(update=changed)
        config_mod.Config.model_validate(cfg.model_dump())  # the new values obey the limits
        ledger.update_config(rid, cfg.model_dump_json(), dict(changed))
    drive_and_finish(root, ledger, rid, cfg, yes, usecase.resume_reviewer(cfg, ledger, rid))


def drive_and_finish(
    root: Path,
    ledger: Ledger,
    run_id: str,
    cfg: config_mod.Config,
    yes: bool,
    reviewer: Reviewer | None = None,
) -> None:
    """Drive the run with a live task table, then (with ``yes``) approve what needs no person
    and merge; exit non-zero unless every task made it."""
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
    if state == RunState.AWAITING_APPROVAL and yes:
        left = land.approve_all(ledger, run_id, cfg, who())
        if left:
            out.print(f"needs a person: {', '.join(left)} (crewchief review {run_id})")
        else:
            merge_and_report(root, ledger, run_id, cfg)
    finish(ledger, run_id)


def merge_and_report(root: Path, ledger: Ledger, run_id: str, cfg: config_mod.Config) -> None:
    landing = land.merge_run(root, ledger, run_id, cfg, who())
    out.print(f"merged: {landing.target} {landing.old[:12]} → {landing.new[:12]} ({landing.how})")


def finish(ledger: Ledger, run_id: str, merged_is_success: bool = False) -> None:
    """Say what comes next; exit 1 when the run failed, was held or paused, or a task did not
    make it. With ``merged_is_success`` (``merge``), a merged run exits 0 whatever was dropped;
    ``run --yes`` keeps exiting 1 when a task did not make it, for unattended pipelines."""
    state = RunState(ledger.run(run_id)["state"])
    bad_states = (TaskState.FAILED, TaskState.REJECTED, TaskState.CONFLICTED, TaskState.BLOCKED)
    bad = [t for t, s in ledger.task_states(run_id).items() if s in bad_states]
    if state == RunState.MERGED and bad:
        out.print(f"not merged (see crewchief status {run_id}): {', '.join(bad)}")
    if state == RunState.MERGED and merged_is_success:
        return
    if state == RunState.AWAITING_APPROVAL:
        out.print(f"next: crewchief review {run_id}  then  crewchief merge {run_id}")
    events = ledger.event_records(run_id)
    stops = [e.data for e in events if e.kind == "budget_stop"]
    if state == RunState.INTERRUPTED and stops:
        out.print(
            f"[yellow]paused: {stops[-1]['reason']}[/yellow]; nothing is lost. Resume with "
            f"`crewchief resume {run_id} --run-budget … --task-budget …`"
        )
        raise typer.Exit(1)
    last = next((e.data for e in reversed(events) if e.kind == "run_state"), {})
    if state in (RunState.INTERRUPTED, RunState.FAILED) and last.get("reason"):
        word = "held" if state == RunState.INTERRUPTED else "failed"
        out.print(f"{word}: {last['reason']}", style="red", markup=False, highlight=False)
        if state == RunState.INTERRUPTED:
            out.print(f"nothing is lost: fix the cause, then `crewchief resume {run_id}`")
        raise typer.Exit(1)
    if state == RunState.FAILED or bad:
        out.print(f"[red]{len(bad)} task(s) did not make it; run {run_id} is {state}[/red]")
        raise typer.Exit(1)
