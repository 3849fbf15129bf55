"""`crewchief hygiene`: the low-priority cleanup loop — find duplication, open small refactor
tasks, let workers propose patches and the manager triage them; people decide at the gate."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from crewchief import config as config_mod
from crewchief import usecase
from crewchief.cli.common import RepoOpt, app, out, repo_root
from crewchief.cli.runs import drive_and_finish
from crewchief.intel.hygiene import DuplicationPlanner, NothingToDo, proposed_keys
from crewchief.ledger.store import Ledger
from crewchief.records import ChangeRequest
from crewchief.run.intake import make_plan, open_run, preflight

#: Niceness added to the loop and its workers: hygiene never competes with people's work.
LOW_PRIORITY = 10


@app.command()
def hygiene(
    repo: RepoOpt = Path("."),
    max_tasks: Annotated[int, typer.Option(help="Refactor tasks per sweep.", min=1)] = 3,
    every: Annotated[float | None, typer.Option(help="Sweep again every N seconds.")] = None,
    sweeps: Annotated[int | None, typer.Option(help="Stop after N sweeps (with --every).")] = None,
) -> None:
    """Sweep for duplicated code and open small refactor tasks for workers and the manager.

    Each sweep is a run that stops at the human gate: the manager has triaged the workers'
    patches, people approve what they like with `crewchief review` and `crewchief merge`.
    A duplicate is proposed once; later sweeps look for new ones. Runs at low CPU priority.
    """
    root = repo_root(repo)
    os.nice(LOW_PRIORITY)
    done = 0
    while True:
        _sweep(root, max_tasks)
        done += 1
        if every is None or (sweeps is not None and done >= sweeps):
            return
        time.sleep(every)


def _sweep(root: Path, max_tasks: int) -> None:
    cfg = config_mod.load(root)
    target, base = preflight(root, cfg)
    seen = (
        proposed_keys(Ledger.existing(root)) if (root / ".crewchief/ledger.db").exists() else set()
    )
    request = ChangeRequest(goal="hygiene: remove duplicated code")
    planner = DuplicationPlanner(cfg.worker_backend, max_tasks, seen)
    try:
        plan = make_plan(root, request, planner, cfg)
    except NothingToDo as e:
        out.print(f"sweep: {e}")
        return
    usecase.check_models(cfg, plan)
    ledger, run_id = open_run(root, request, plan, cfg, target, base)
    reviewer = usecase.reviewer_for(cfg, plan, ledger, run_id)
    out.print(f"sweep: {len(plan.tasks)} refactor task(s) in run {run_id}")
    try:
        drive_and_finish(root, ledger, run_id, cfg, False, reviewer)
    except typer.Exit as e:
        if e.exit_code not in (0, 1):  # a task that did not make it is a triage result
            raise
