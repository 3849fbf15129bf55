"""The command line: parses, calls the library, renders. Errors become exit codes here only:
0 ok, 1 the run failed, 2 bad input (nothing was changed), 130 interrupted (resumable)."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import JsonValue
from rich.console import Console
from rich.live import Live
from rich.text import Text

from crewchief import config as config_mod
from crewchief import doctor, git, land, provenance, render, views
from crewchief.backends.base import load_recipe, recipe_names
from crewchief.errors import CrewchiefError, UserError
from crewchief.executor import LocalExecutor
from crewchief.intake import load_plan_file, make_plan, open_run, preflight
from crewchief.ledger import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.orchestrate import Orchestrator
from crewchief.plan import predicted_conflicts
from crewchief.records import ChangeRequest
from crewchief.web.commands import serve_command

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Plan a change, run scoped workers in parallel, gate, merge in order.",
)
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

RepoOpt = Annotated[Path, typer.Option("--repo", "-C", help="Repository (default: cwd).")]
RunArg = Annotated[str | None, typer.Argument(help="Run id or prefix (default: newest).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _repo(path: Path) -> Path:
    return git.repo_root(path.resolve())


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.command()
def init(
    repo: RepoOpt = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Detect language, test command and fast checks; write a documented crewchief.toml."""
    root = _repo(repo)
    path = root / config_mod.CONFIG_FILE
    if path.exists() and not force:
        raise UserError(f"{path} exists (use --force to overwrite)")
    cfg = config_mod.detect(root)
    path.write_text(config_mod.render_toml(cfg))
    out.print(
        f"wrote {path}: language={cfg.language or '?'}, "
        f"test_command={cfg.test_command or '(none found: set it)'}"
    )


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


RecipeOpt = Annotated[str | None, typer.Option(help="Deterministic recipe: codemod, command.")]
LangOpt = Annotated[str | None, typer.Option(help="codemod: language of the pattern.")]
PatternOpt = Annotated[str | None, typer.Option(help="codemod: ast-grep pattern.")]
RewriteOpt = Annotated[str | None, typer.Option(help="codemod: rewrite template.")]
CommandOpt = Annotated[str | None, typer.Option(help="command: shell command; {files} = files.")]
SplitOpt = Annotated[str | None, typer.Option(help="One task per file|dir|package.")]
PathsOpt = Annotated[list[str], typer.Option("--path", help="Limit to these paths or globs.")]
ArgOpt = Annotated[list[str], typer.Option("--arg", help="Extra recipe argument KEY=VALUE.")]


def _request(goal: str | None, recipe: str | None, args: dict[str, JsonValue]) -> ChangeRequest:
    if recipe is None:
        raise UserError("no planner: pass --recipe (" + ", ".join(recipe_names()) + ") or --plan")
    return ChangeRequest(
        goal=goal or f"{recipe}: {json.dumps(args)}", recipe=recipe, recipe_args=args
    )


@app.command("plan")
def plan_cmd(
    goal: Annotated[str | None, typer.Argument(help="What to change.")] = None,
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
    """Plan only: print the plan and write it to an editable file for `run --plan FILE`."""
    root = _repo(repo)
    cfg = config_mod.load(root)
    request = _request(
        goal, recipe, _recipe_args(lang, pattern, rewrite, split, command, paths, arg)
    )
    plan = make_plan(root, request, load_recipe(request.recipe or "").planner, cfg)
    out.print(render.plan_table(plan))
    for warning in predicted_conflicts(plan):
        out.print(f"[yellow]predicted conflict:[/yellow] {warning}")
    out_file.write_text(plan.model_dump_json(indent=2) + "\n")
    out.print(f"wrote {out_file}: edit it, then `crewchief run --plan {out_file}`")


@app.command()
def run(
    goal: Annotated[str | None, typer.Argument(help="What to change.")] = None,
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
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve and merge unattended.")] = False,
    repo: RepoOpt = Path("."),
) -> None:
    """Plan a change and run it: dispatch → gate → integrate → full suite (→ merge with --yes)."""
    root = _repo(repo)
    cfg = config_mod.load(
        root,
        {
            "workers": workers,
            "task_timeout_s": timeout,
            "test_command": test_command,
            "target_branch": target,
        },
    )
    target_branch, base = preflight(root, cfg)
    if plan_file is not None:
        plan = load_plan_file(plan_file, cfg)
        request = ChangeRequest(goal=goal or plan.goal)
    else:
        request = _request(
            goal, recipe, _recipe_args(lang, pattern, rewrite, split, command, paths, arg)
        )
        plan = make_plan(root, request, load_recipe(request.recipe or "").planner, cfg)
    out.print(render.plan_table(plan))
    ledger, run_id = open_run(root, request, plan, cfg, target_branch, base)
    drive_and_finish(root, ledger, run_id, cfg, yes)


@app.command()
def resume(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    yes: Annotated[bool, typer.Option("--yes", "-y")] = False,
) -> None:
    """Continue an interrupted or killed run; finished attempts are not redone."""
    root = _repo(repo)
    ledger = Ledger.existing(root)
    rid = ledger.resolve_run(run_id)
    cfg = config_mod.Config.model_validate_json(ledger.run(rid)["config_json"])
    drive_and_finish(root, ledger, rid, cfg, yes)


def drive_and_finish(
    root: Path, ledger: Ledger, run_id: str, cfg: config_mod.Config, yes: bool
) -> None:
    orch = Orchestrator(root, ledger, cfg, LocalExecutor(cfg.workers))
    live_view = render.LiveTasks(ledger.path, run_id)
    try:
        with Live(
            get_renderable=live_view,
            console=out,
            refresh_per_second=4,
            transient=not out.is_terminal,
        ):
            state = orch.drive(run_id)
    except KeyboardInterrupt:
        err.print(f"interrupted: resume with `crewchief resume {run_id}`")
        raise typer.Exit(130) from None
    finally:
        live_view.close()
    out.print(render.task_table(views.task_rows(ledger, run_id), title=f"run {run_id}: {state}"))
    if state == RunState.AWAITING_APPROVAL and yes:
        left = land.approve_all(ledger, run_id, cfg, _who())
        if left:
            out.print(f"needs a person: {', '.join(left)} (crewchief review {run_id})")
        else:
            _merge(root, ledger, run_id, cfg)
    _finish(ledger, run_id)


def _finish(ledger: Ledger, run_id: str) -> None:
    state = RunState(ledger.run(run_id)["state"])
    states = ledger.task_states(run_id).values()
    bad = [
        s
        for s in states
        if s in (TaskState.FAILED, TaskState.REJECTED, TaskState.CONFLICTED, TaskState.BLOCKED)
    ]
    if state == RunState.AWAITING_APPROVAL:
        out.print(f"next: crewchief review {run_id}  then  crewchief merge {run_id}")
    if state == RunState.FAILED or bad:
        out.print(f"[red]{len(bad)} task(s) did not make it; run {run_id} is {state}[/red]")
        raise typer.Exit(1)


@app.command()
def status(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    as_json: JsonOpt = False,
    all_runs: Annotated[bool, typer.Option("--all", help="List every run.")] = False,
) -> None:
    """Runs, or one run's tasks with states, attempts, checks, verdicts and timings."""
    ledger = Ledger.existing(_repo(repo))
    if all_runs:
        summaries = [views.run_summary(ledger, r["id"]) for r in ledger.runs()]
        _emit(summaries, as_json, lambda: out.print(render.runs_table(summaries)))
        return
    rid = ledger.resolve_run(run_id)
    data = {
        **views.run_summary(ledger, rid),
        "task_list": views.task_rows(ledger, rid),
        "merge_order": views.merge_order(ledger, rid),
    }

    def show() -> None:
        out.print(render.runs_table([data]))
        out.print(render.task_table(data["task_list"]))
        suite = {None: "not run", True: "green", False: "red"}[data["suite_passed"]]
        out.print(f"integration {str(data['integration'])[:12]}  full suite: {suite}")

    _emit(data, as_json, show)


@app.command()
def log(run_id: RunArg = None, repo: RepoOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Every event of a run, in order."""
    ledger = Ledger.existing(_repo(repo))
    events = views.event_log(ledger, ledger.resolve_run(run_id))

    def show() -> None:
        for e in events:
            who = "/".join(x for x in (e["task"], e["attempt"]) if x) or "-"
            out.print(f"{render.when(e['at'])}  {e['kind']:<16} {who:<30} {json.dumps(e['data'])}")

    _emit(events, as_json, show)


def _emit(data: Any, as_json: bool, show: Any) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        show()


@app.command()
def review(
    run_id: RunArg = None,
    repo: RepoOpt = Path("."),
    approve_all: Annotated[bool, typer.Option("--approve-all")] = False,
    approve: Annotated[list[str], typer.Option(help="Approve TASK.")] = [],  # noqa: B006
    reject: Annotated[list[str], typer.Option(help="Reject TASK.")] = [],  # noqa: B006
    send_back: Annotated[
        list[str], typer.Option(help="Reject TASK and retry it with --comment as instruction.")
    ] = [],  # noqa: B006
    comment: Annotated[str, typer.Option(help="Comment recorded with decisions.")] = "",
) -> None:
    """Show each verified task's diff and checks; approve or reject per task."""
    root = _repo(repo)
    ledger = Ledger.existing(root)
    rid = ledger.resolve_run(run_id)
    cfg = config_mod.Config.model_validate_json(ledger.run(rid)["config_json"])
    for t in approve:
        land.decide(ledger, rid, t, True, _who(), comment)
    for t in reject:
        land.decide(ledger, rid, t, False, _who(), comment)
    for t in send_back:
        land.send_back(ledger, rid, t, _who(), comment)
        out.print(f"{t} goes back for another attempt: crewchief resume {rid}")
    if approve_all:
        left = land.approve_all(ledger, rid, cfg, _who())
        if left:
            out.print(f"needs an explicit decision (--approve TASK): {', '.join(left)}")
    pending = views.awaiting_decision(ledger, rid)
    if approve or reject or send_back or approve_all:
        out.print(f"{len(pending)} task(s) still await a decision")
        return
    _interactive_review(ledger, rid, cfg, pending)


def _interactive_review(
    ledger: Ledger, rid: str, cfg: config_mod.Config, pending: list[str]
) -> None:
    rows = {r["task"]: r for r in views.task_rows(ledger, rid)}
    for task_id in pending:
        row = rows[task_id]
        out.rule(f"{task_id}: {row['title']}")
        for c in row["checks"]:
            out.print(f"  {'✓' if c['passed'] else '✗'} {c['kind']}: {c['name']}")
        for reason in land.person_reasons(ledger, rid, task_id, cfg):
            out.print(f"  [yellow]needs a person: {reason}[/yellow]")
        out.print(render.diff(views.task_patch(ledger, rid, task_id)))
        if not sys.stdin.isatty():
            continue
        answer = typer.prompt("approve, reject or skip? [a/r/s]", default="s")
        if answer.lower().startswith(("a", "r")):
            note = typer.prompt("comment", default="")
            land.decide(ledger, rid, task_id, answer.lower().startswith("a"), _who(), note)
    if not sys.stdin.isatty() and pending:
        out.print(f"{len(pending)} task(s) await a decision: use --approve/--reject/--approve-all")


@app.command()
def merge(run_id: RunArg = None, repo: RepoOpt = Path(".")) -> None:
    """Move the target branch to the tested, approved integration commit (compare-and-swap)."""
    root = _repo(repo)
    ledger = Ledger.existing(root)
    rid = ledger.resolve_run(run_id)
    cfg = config_mod.Config.model_validate_json(ledger.run(rid)["config_json"])
    _merge(root, ledger, rid, cfg)
    _finish(ledger, rid)


def _merge(root: Path, ledger: Ledger, run_id: str, cfg: config_mod.Config) -> None:
    landing = land.merge_run(root, ledger, run_id, cfg, _who())
    out.print(f"merged: {landing.target} {landing.old[:12]} → {landing.new[:12]} ({landing.how})")


@app.command("doctor")
def doctor_cmd(
    repo: RepoOpt = Path("."),
    agent: Annotated[
        list[str], typer.Option(help="Agent CLI to check (default: configured).")
    ] = [],  # noqa: B006
    no_tests: Annotated[bool, typer.Option("--no-tests", help="Do not run the suite.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check the repository and this machine: git, the suite, worker CLIs, sandbox, model keys,
    and whether orchestration is advisable at all here."""
    root = _repo(repo)
    cfg = config_mod.load(root)
    report = doctor.diagnose(
        root,
        cfg.test_command,
        list(agent) or sorted(cfg.agents),
        model_keys=_model_key_names(cfg),
        agent_tables=cfg.agents,
        run_tests=not no_tests,
        test_timeout_s=cfg.suite_timeout_s,
    )
    _emit(report.model_dump(mode="json"), as_json, lambda: out.print(render.doctor_view(report)))
    if any(f.level == "fail" for f in report.findings):
        raise typer.Exit(1)


def _model_key_names(cfg: config_mod.Config) -> list[str]:
    """Environment variables the configured models read their keys from."""
    names = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
    models = (cfg.manager_model, cfg.worker_model, cfg.reviewer_model)
    return sorted({names[m.split(":", 1)[0]] for m in models if m and m.split(":")[0] in names})


@app.command("blame")
def blame_cmd(
    target: Annotated[str, typer.Argument(help="FILE, FILE:LINE or FILE:START-END.")],
    rev: Annotated[str, typer.Option(help="Revision to blame.")] = "HEAD",
    repo: RepoOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Who changed each line: run, task, attempt, worker and the exact instruction."""
    path, _, span = target.partition(":")
    start, _, end = span.partition("-")
    try:
        first, last = int(start or 1), int(end) if end else (int(start) if start else None)
    except ValueError:
        raise UserError(f"bad line range {span!r}: use FILE:LINE or FILE:START-END") from None
    origins = provenance.blame(_repo(repo), path, rev, first, last)

    def show() -> None:
        for o in origins:
            who = f"{o.run} {o.task} {o.worker}" if o.run else "(not crewchief)"
            out.print(
                f"{o.line:>5} {o.commit[:10]} {who:<45} {o.text}", highlight=False, markup=False
            )
        for o in {o.attempt: o for o in origins if o.run}.values():
            check = {True: "matches", False: "DOES NOT MATCH", None: "not in ledger"}
            out.print(
                f"\n{o.task} ({o.attempt}): {o.title}\n  instruction digest "
                f"{(o.instruction_digest or '')[:16]}… {check[o.digest_matches]}\n"
                f"  {o.instructions}",
                highlight=False,
                markup=False,
            )

    _emit([o.__dict__ for o in origins], as_json, show)


@app.command()
def demo(directory: Annotated[Path | None, typer.Option("--dir")] = None) -> None:
    """Copy the bundled sample project and run a codemod through the whole pipeline."""
    from crewchief.demo import run_demo

    run_demo(directory, out)


app.command("serve")(serve_command)


def main() -> None:
    try:
        code = app(standalone_mode=False)  # returns typer.Exit's code instead of raising it
    except CrewchiefError as e:
        err.print(Text.assemble(("error: ", "red"), str(e)), soft_wrap=True)
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # click usage errors carry their own exit code (2)
        code = getattr(e, "exit_code", None)
        if code is None:
            raise
        if hasattr(e, "show"):
            e.show()
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)
