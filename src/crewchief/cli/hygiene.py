"""`crewchief hygiene`: the low-priority cleanup loop — find duplication, open small refactor
tasks, let workers propose patches and the manager triage them; people decide at the gate."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from crewchief.cli.common import RepoOpt, app, out, repo_root

#: Niceness added to the loop and its workers: hygiene never competes with people's work.
LOW_PRIORITY = 10


@app.command()
def hygiene(
    repo: RepoOpt = Path("."),
    max_tasks: Annotated[
        int, typer.Option(metavar="N", help="Refactor tasks per sweep.", min=1)
    ] = 3,
    every: Annotated[
        float | None, typer.Option(metavar="SECONDS", help="Sweep again every N seconds.")
    ] = None,
    sweeps: Annotated[
        int | None, typer.Option(metavar="N", help="Stop after N sweeps (with --every).")
    ] = None,
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
    from crewchief import config as config_mod
    from crewchief import usecase
    from crewchief.cli.runs import drive_and_report
    from crewchief.intel.hygiene import DuplicationPlanner, NothingToDo, proposed_keys
    from crewchief.ledger.store import Ledger
    from crewchief.records import ChangeRequest

    cfg = config_mod.load(root)
    seen = (
        proposed_keys(Ledger.existing(root)) if (root / ".crewchief/ledger.db").exists() else set()
    )
    request = ChangeRequest(goal="hygiene: remove duplicated code")
    planner = DuplicationPlanner(cfg.worker_backend, max_tasks, seen)
    try:
        started = usecase.start_run(root, cfg, request, planner=planner)
    except NothingToDo as e:
        out.print(f"sweep: {e}")
        return
    out.print(f"sweep: {len(started.plan.tasks)} refactor task(s) in run {started.run_id}")
    # A task that did not make it (exit 1) is a triage result, not the loop's failure.
    drive_and_report(root, started.ledger, started.run_id, cfg, False, started.reviewer)
