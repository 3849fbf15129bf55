"""Orchestration overhead on a Django-size repository.

    .venv/bin/python bench/overhead.py [--tasks 32] [--workers 8] [--sleep 10] [--bare 6]

N tasks whose worker only sleeps L seconds (then appends one comment line to its file, so there
is a patch to gate and commit) run C at a time through the real pipeline: pooled sparse worktrees,
worker subprocesses, diff, gate, integration commits, a trivial full suite. Reported against a
baseline measured in the same run: a bare `git worktree add` + `git diff` + `git worktree
remove` per task on the same tree.

- parallel efficiency = ideal makespan ⌈N/C⌉·L / actual makespan from the run's start to its
  integration commits (target ≥ 0.9); the full suite's own checkout and run come after that and
  are reported on their own row
- orchestration cost per task = (Σ attempt wall time − N·L + integration time) / N: workspace,
  worker process, patch, gate and commit (target ≤ 0.2 × the bare git cost per task)
"""

from __future__ import annotations

import argparse
import math
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django_repo import django_repo
from rich.console import Console
from rich.table import Table

from crewchief.attempts.executor import LocalExecutor
from crewchief.config import Config
from crewchief.ledger.store import Ledger
from crewchief.records import ChangeRequest, Plan, Task
from crewchief.run.intake import open_run
from crewchief.run.orchestrate import Orchestrator


def _files(repo: Path, n: int) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "django/utils/*.py", "django/db/models/*.py"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(out.split())[:n]


def _plan(files: list[str], sleep_s: float) -> Plan:
    tasks = tuple(
        Task(
            id=f"t{i}",
            title=f"sleep and touch {f}",
            instructions="bench",
            owned_paths=(f,),
            backend="recipe:command",
            spec={
                "command": f"sleep {sleep_s} && echo '# bench' >> {shlex.quote(f)}",
                "ok_exit_codes": [0],
            },
        )
        for i, f in enumerate(files)
    )
    return Plan(goal="overhead bench", planner="bench", tasks=tasks)


def measure_pipeline(
    repo: Path, files: list[str], sleep_s: float, workers: int
) -> dict[str, float]:
    """Makespan and per-task orchestration cost of one real run, read back from the ledger."""
    shutil.rmtree(repo / ".crewchief", ignore_errors=True)
    cfg = Config(
        test_command="true",
        fast_checks=[],
        workers=workers,
        sparse_worktrees=True,
        task_timeout_s=sleep_s + 120,
        max_tasks=1000,
    )
    base = subprocess.run(
        ["git", "rev-parse", "main"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    ledger, run_id = open_run(
        repo, ChangeRequest(goal="bench"), _plan(files, sleep_s), cfg, "main", base
    )
    start = time.monotonic()
    state = Orchestrator(repo, ledger, cfg, LocalExecutor(workers)).drive(run_id)
    total = time.monotonic() - start
    attempts = ledger.attempts(run_id)
    assert state == "awaiting_approval", state
    assert len(attempts) == len(files), "every task must take exactly one attempt"
    attempt_s = sum(a.ended_at - a.started_at for a in attempts)
    last_end = max(a.ended_at for a in attempts)
    integrated = _integration_end(ledger, run_id)
    integrate_s = integrated - last_end
    makespan = integrated - ledger.run(run_id).created_at
    return {
        "makespan": makespan,
        "attempt_s": attempt_s,
        "integrate_s": integrate_s,
        "suite_s": total - makespan,
        "cost_per_task": (attempt_s - len(files) * sleep_s + integrate_s) / len(files),
    }


def _integration_end(ledger: Ledger, run_id: str) -> float:
    return max(e["at"] for e in ledger.events(run_id) if e["kind"] == "integrated")


def measure_bare(repo: Path, samples: int) -> list[float]:
    """Seconds per task for a bare worktree add + diff + remove, full checkout."""
    times = []
    for i in range(samples):
        path = repo.parent / f"bare-wt-{i}"
        start = time.monotonic()
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(path), "main"], cwd=repo, check=True
        )
        subprocess.run(["git", "diff", "--binary"], cwd=path, check=True, capture_output=True)
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=repo, check=True)
        times.append(time.monotonic() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tasks", type=int, default=32)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--sleep", type=float, default=10.0, help="L: seconds each worker sleeps")
    ap.add_argument("--bare", type=int, default=6, help="samples of the bare git baseline")
    args = ap.parse_args()
    console = Console()
    repo = django_repo()
    files = _files(repo, args.tasks)
    console.print(
        f"Django tree: {repo} ({len(files)} tasks, {args.workers} at a time, L={args.sleep:g}s)"
    )
    bare = statistics.median(measure_bare(repo, args.bare))
    run = measure_pipeline(repo, files, args.sleep, args.workers)
    ideal = math.ceil(len(files) / args.workers) * args.sleep
    table = Table(title="orchestration overhead (medians; ratios against the same run)")
    for col in ("measure", "value", "target", "ok"):
        table.add_column(col)
    efficiency = ideal / run["makespan"]
    ratio = run["cost_per_task"] / bare
    table.add_row("bare worktree add+diff+remove per task", f"{bare:.3f} s", "baseline", "")
    table.add_row("ideal makespan ⌈N/C⌉·L", f"{ideal:.2f} s", "", "")
    table.add_row("actual makespan", f"{run['makespan']:.2f} s", "", "")
    table.add_row("parallel efficiency", f"{efficiency:.3f}", "≥ 0.9", _ok(efficiency >= 0.9))
    table.add_row(f"integration ({len(files)} commits)", f"{run['integrate_s']:.2f} s", "", "")
    table.add_row("full suite: full checkout + `true`", f"{run['suite_s']:.2f} s", "", "")
    table.add_row("orchestration cost per task", f"{run['cost_per_task']:.3f} s", "", "")
    table.add_row("cost per task / bare git", f"{ratio:.3f}", "≤ 0.2", _ok(ratio <= 0.2))
    console.print(table)
    shutil.rmtree(repo / ".crewchief", ignore_errors=True)


def _ok(good: bool) -> str:
    return "yes" if good else "NO"


if __name__ == "__main__":
    sys.exit(main())
