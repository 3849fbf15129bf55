"""``crewchief demo --feature``: a model-planned feature across the layers of a bundled project,
run offline on scripted models through the real manager, LLM workers, reviewer, gate,
integration and merge; the run's report is printed at the end."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from crewchief import config as config_mod
from crewchief import usecase
from crewchief.cli import render
from crewchief.cli.demo import demo_config, make_repo
from crewchief.cli.runs import drive_and_report
from crewchief.ledger import report
from crewchief.models import feature_script
from crewchief.records import ChangeRequest

PROJECT = Path(__file__).parent / "demo_feature"
SCRIPTED = "scripted:crewchief.models.feature_script:"
MODELS = {
    "manager_model": SCRIPTED + "manager",
    "worker_model": SCRIPTED + "worker",
    "reviewer_model": SCRIPTED + "reviewer",
}
BANNER = (
    "[bold yellow]SCRIPTED MODELS[/bold yellow]: the manager, the workers and the reviewer play "
    "fixed scripts (crewchief.models.feature_script); no provider is called, no key is needed. "
    "Everything else is real: planning checks, worktrees, the gate, integration, the suite, "
    "the merge."
)


def run_feature_demo(directory: Path | None, out: Console) -> str:
    """Run the feature demo in a new repository; print its progress and report. Returns the
    run id. Exits non-zero (typer.Exit) when a task did not make it, as ``run`` does."""
    root = make_repo(PROJECT, "orderdemo", directory, demo_config(workers=2, **MODELS))
    out.print(BANNER)
    out.print(f"[bold]demo repository:[/bold] {root}")
    out.print(f"[bold]goal:[/bold] {feature_script.GOAL}")
    cfg = config_mod.load(root)
    started = usecase.start_run(root, cfg, ChangeRequest(goal=feature_script.GOAL, focus=("shop",)))
    out.print(render.plan_table(started.plan))
    code = drive_and_report(root, started.ledger, started.run_id, cfg, True, started.reviewer)
    if code:
        raise typer.Exit(code)
    out.rule(f"report (crewchief report {started.run_id})")
    out.print(
        report.markdown(report.build(root, started.ledger, started.run_id)),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"explore: cd {root} && crewchief status && crewchief serve")
    return started.run_id
