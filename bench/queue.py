"""Merge-queue benchmark: integrating beside the workers against integrating at the end.

    .venv/bin/python bench/queue.py [--tasks 16] [--workers 4] [--median-s 20] [--sigma 0.6]
                                    [--suite-s 10] [--scale 1.0] [--seed 7] [--suites 1]

Both strategies run the real Orchestrator in this process on the same repository, plan and
seeds: 16 scripted command tasks (sleep a lognormal duration, then edit), 4 workers, a suite
command that sleeps ``suite-s`` and fails if any module says BROKEN. Two pairs of tasks edit the
same spot of a shared file (two injected conflicts: each pair's later patch is re-run on the
tip; the edit keeps a sorted set of lines, so the final file does not depend on the order) and
one task writes BROKEN (the culprit). ``--scale`` multiplies every duration (0.1 for a quick
run; the figures are ratios).

Printed per strategy: makespan of the drive, time from the first verified patch (of those that
land) to the first green suite run on a commit holding it, suite runs spent, the culprit found
and the final tree; then the ratios against the targets (makespan <= 0.8x, time to first green
<= 0.3x).
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py: its folder must not be on the path, or the standard library's
# ``queue`` (imported by concurrent.futures) would be this file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import math
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass

from crewchief import config
from crewchief.attempts.executor import LocalExecutor
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState
from crewchief.records import ChangeRequest, Plan, Task
from crewchief.run import intake
from crewchief.run.orchestrate import Orchestrator

CULPRIT = 7
CONFLICT_PAIRS = ((3, 4), (10, 11))
MAKESPAN_TARGET = 0.8
FIRST_GREEN_TARGET = 0.3


@dataclass(frozen=True)
class Figures:
    strategy: str
    makespan_s: float
    first_green_s: float
    suite_runs: int
    culprits: tuple[str, ...]
    tree: str
    landed: tuple[str, ...]
    attempts: int


def _git(repo: Path, *args: str) -> str:
    who = {"NAME": "bench", "EMAIL": "bench@example.com"}
    env = {f"GIT_{role}_{k}": v for role in ("AUTHOR", "COMMITTER") for k, v in who.items()}
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return proc.stdout.decode().strip()


def make_repo(root: Path, tasks: int) -> Path:
    repo = root / "project"
    (repo / "pkg").mkdir(parents=True)
    (repo / ".gitignore").write_text(".crewchief/\n")
    for i in range(tasks):
        (repo / "pkg" / f"m{i}.py").write_text(f"VALUE = {i}\n")
    for k in range(len(CONFLICT_PAIRS)):
        (repo / "pkg" / f"shared{k}.txt").write_text("zz end\n")
    _git(repo, "init", "-q", "--initial-branch=main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial")
    return repo


def durations(args: argparse.Namespace) -> list[float]:
    """One lognormal duration per task (median ``median_s``, sigma ``sigma``), scaled."""
    rng = random.Random(args.seed)
    mu = math.log(args.median_s)
    return [args.scale * rng.lognormvariate(mu, args.sigma) for _ in range(args.tasks)]


def make_plan(args: argparse.Namespace) -> Plan:
    shared = {i: k for k, pair in enumerate(CONFLICT_PAIRS) for i in pair}
    tasks = []
    for i, d in enumerate(durations(args)):
        if i in shared:
            path = f"pkg/shared{shared[i]}.txt"
            edit = f"(echo 'mark {i}'; cat {path}) | sort -u > {path}.new && mv {path}.new {path}"
        else:
            path = f"pkg/m{i}.py"
            word = "BROKEN" if i == CULPRIT else "done"
            edit = f"echo '# {word} {i}' >> {path}"
        command = f"sleep {d:.3f} && {edit}"
        tasks.append(
            Task(
                id=f"t{i:02d}",
                title=f"task {i}",
                instructions=command,
                owned_paths=(path,),
                backend="recipe:command",
                spec={"command": command},
            )
        )
    return Plan(goal="bench", planner="bench", tasks=tuple(tasks))


def run_once(args: argparse.Namespace, merge_queue: bool) -> Figures:
    with tempfile.TemporaryDirectory(prefix="crewchief-bench-queue-") as tmp:
        repo = make_repo(Path(tmp), args.tasks)
        suite = f"sh -c 'sleep {args.scale * args.suite_s:.3f}; ! grep -rq BROKEN pkg'"
        cfg = config.load(
            repo,
            {
                "workers": args.workers,
                "test_command": suite,
                "suite_probe": False,  # a stand-in suite (it greps): the base check still runs
                "merge_queue": merge_queue,
                "queue_suites": args.suites,
                "max_attempts": 3,
                "task_timeout_s": 600,
            },
        )
        target, base = intake.preflight(repo, cfg)
        request = ChangeRequest(goal="bench")
        ledger, run_id = intake.open_run(repo, request, make_plan(args), cfg, target, base)
        start = time.monotonic()
        state = Orchestrator(repo, ledger, cfg, LocalExecutor(args.workers)).drive(run_id)
        makespan = time.monotonic() - start
        if state != RunState.AWAITING_APPROVAL:
            raise SystemExit(f"run ended {state} (crewchief log in {repo} tells why)")
        return _figures(repo, ledger, run_id, base, makespan, merge_queue)


def _figures(
    repo: Path, ledger: Ledger, run_id: str, base: str, makespan: float, merge_queue: bool
) -> Figures:
    events = ledger.event_records(run_id)
    landing = {r.task_id for r in ledger.integration_chain(run_id)}
    verified = next(
        e
        for e in events
        if e.kind == "task_state" and e.data.get("to") == "verified" and e.task_id in landing
    )
    suites = [r for r in ledger.checks(run_id) if r.kind == "suite"]
    green_at = None
    for row in suites:
        if row.passed and verified.task_id in _tasks_in(repo, base, row.commit_id):
            green_at = row.at
            break
    assert green_at is not None, "the first verified patch never went green"
    culprits = tuple(
        sorted(
            str(e.task_id)
            for e in events
            if e.kind == "task_state" and e.data.get("reason") == "broke the full suite"
        )
    )
    tip = str(ledger.run(run_id).integration_commit)
    return Figures(
        "merge queue" if merge_queue else "at the end",
        makespan,
        green_at - verified.at,
        len(suites),
        culprits,
        _git(repo, "rev-parse", f"{tip}^{{tree}}"),
        tuple(sorted(landing)),
        len(ledger.attempts(run_id)),
    )


def _tasks_in(repo: Path, base: str, commit: str) -> set[str]:
    fmt = "--format=%(trailers:key=Crewchief-Task,valueonly)"
    raw = _git(repo, "log", fmt, f"{base}..{commit}")
    return {line.strip() for line in raw.splitlines() if line.strip()}


def report(args: argparse.Namespace, end: Figures, queue: Figures) -> str:
    lines = [
        f"{args.tasks} tasks, {args.workers} workers, median {args.median_s * args.scale:.2f}s "
        f"sigma {args.sigma}, suite {args.suite_s * args.scale:.2f}s, seed {args.seed}",
        f"{'strategy':<12} {'makespan':>9} {'to green':>9} {'suites':>7}  culprit  tree",
    ]
    for f in (end, queue):
        lines.append(
            f"{f.strategy:<12} {f.makespan_s:>8.1f}s {f.first_green_s:>8.1f}s {f.suite_runs:>7}  "
            f"{','.join(f.culprits) or '-':<7}  {f.tree[:12]}"
        )
    mk = queue.makespan_s / end.makespan_s
    fg = queue.first_green_s / end.first_green_s
    lines += [
        f"makespan ratio {mk:.2f} (target <= {MAKESPAN_TARGET}): "
        + ("ok" if mk <= MAKESPAN_TARGET else "MISSED"),
        f"time-to-first-green ratio {fg:.2f} (target <= {FIRST_GREEN_TARGET}): "
        + ("ok" if fg <= FIRST_GREEN_TARGET else "MISSED"),
        "same final tree: "
        + ("yes" if end.tree == queue.tree else f"NO (landed {end.landed} vs {queue.landed})"),
        f"attempts: {end.attempts} at the end, {queue.attempts} with the queue",
        "same culprit: " + ("yes" if end.culprits == queue.culprits else "NO"),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--median-s", type=float, default=20.0)
    parser.add_argument("--sigma", type=float, default=0.6)
    parser.add_argument("--suite-s", type=float, default=10.0)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--suites", type=int, default=1, help="queue_suites of the queue run")
    args = parser.parse_args()
    end = run_once(args, merge_queue=False)
    queue = run_once(args, merge_queue=True)
    print(report(args, end, queue))
    sys.exit(0)


if __name__ == "__main__":
    main()
