"""Runs written straight into a real ledger (no driver, no worker): what the read models and the
faces show of a run in a given shape, and the real CLI in a terminal of a given width."""

from __future__ import annotations

from pathlib import Path

from crewchief.config import Config
from crewchief.ledger.store import Ledger
from crewchief.records import ChangeRequest, Plan, Task
from repo_helpers import crewchief, git, make_repo


def task(task_id: str, owns: str, title: str = "", backend: str = "llm:worker") -> Task:
    return Task(
        id=task_id,
        title=title or f"Change {owns}",
        instructions=f"Change {owns}.",
        owned_paths=(owns,),
        backend=backend,
    )


def recorded_run(
    directory: Path, tasks: list[Task], request: ChangeRequest | None = None
) -> tuple[Path, Ledger, str]:
    """A repository owning every task's path and a planned run of ``tasks`` in its ledger."""
    repo = make_repo(directory, {t.owned_paths[0]: "x = 1\n" for t in tasks})
    request = request or ChangeRequest(goal="Change the files")
    plan = Plan(goal=request.goal, planner="test", tasks=tuple(tasks))
    ledger = Ledger.for_repo(repo)
    base = git(repo, "rev-parse", "HEAD")
    run_id = ledger.create_run(request, base, "main", Config().model_dump_json(), plan)
    return repo, ledger, run_id


def crewchief_at(repo: Path, columns: int, *args: str) -> str:
    """The real CLI's stdout in ``repo`` as a terminal ``columns`` wide shows it (exit 0)."""
    proc = crewchief(repo, *args, env={"COLUMNS": str(columns)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout
