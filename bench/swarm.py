"""Swarm benchmark: the same change (K module edits) by one worker at a time, then by C at once.

    .venv/bin/python bench/swarm.py [--modules 8] [--concurrency 4] [--turns 12] [--median-ms 250]

Both runs go through the real pipeline: the LLM planner (a scripted manager model) makes one
task per module; the real Orchestrator dispatches them on a LocalExecutor, each attempt in its own
worktree and child process, where the LLM worker runs a scripted model chosen by model string
(``scripted:crewchief.models.scripted:appender?…``): read, edit, report, each turn with a latency
drawn from a lognormal distribution (seeded per task, so both runs see the same latencies). Then
the gate, integration and the full suite run as usual.

Printed: makespan of the attempts (first start to last end) and of the whole drive, the speedup
against the serial run and its target 0.9·min(K, C), tokens sent per task, and the manager's
share of all tokens (from the model calls the results carry).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo

from crewchief import config
from crewchief.attempts.executor import LocalExecutor
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState
from crewchief.llm.planner import LLMPlanner
from crewchief.llm.spec import WorkerSpec
from crewchief.models.scripted import Output, Reply, lognormal_delay, script
from crewchief.records import ChangeRequest, ModelCall
from crewchief.run import intake
from crewchief.run.orchestrate import Orchestrator

GOAL = "Mark every module as reviewed with a header comment"


@dataclass(frozen=True)
class Figures:
    concurrency: int
    attempts_s: float
    drive_s: float
    plan_s: float
    verified: int
    worker_tokens_per_task: float
    worker_tokens: int
    manager_tokens: int


def make_repo(root: Path, modules: int) -> Path:
    """A project with ``modules`` small modules and a one-line test suite."""
    repo = root / "project"
    (repo / "pkg").mkdir(parents=True)
    (repo / ".gitignore").write_text(".crewchief/\n__pycache__/\n")
    (repo / "pkg" / "__init__.py").write_text("")
    for i in range(modules):
        (repo / "pkg" / f"mod{i:02d}.py").write_text(
            f'"""Module {i}."""\n\n\ndef value_{i}() -> int:\n    return {i}\n'
        )
    (repo / "crewchief.toml").write_text(
        f'test_command = "{sys.executable} -c pass"\nfast_checks = []\n'
        "task_timeout_s = 120\nmax_attempts = 1\n"
    )
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *ident, *args], cwd=repo, check=True)
    return repo


def manager(modules: int, median_s: float, sigma: float, seed: int) -> Any:
    """A scripted manager: one low-risk task per module, all in one parallel group."""
    tasks = [
        {
            "id": f"mod{i:02d}",
            "title": f"review header for mod{i:02d}",
            "instructions": "Put the line '# reviewed' at the top of the module.",
            "owned_paths": [f"pkg/mod{i:02d}.py"],
            "symbols": [f"value_{i}"],
        }
        for i in range(modules)
    ]

    def plan(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        return Output({"tasks": tasks, "parallel_groups": [[t["id"] for t in tasks]]})

    return script(plan, name="bench-manager", delay=lognormal_delay(median_s, sigma, seed))


def run_once(args: argparse.Namespace, concurrency: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="crewchief-bench-") as tmp:
        repo = make_repo(Path(tmp), args.modules)
        cfg = config.load(repo, {"workers": concurrency})
        worker_model = (
            "scripted:crewchief.models.scripted:appender?line=%23%20reviewed"
            f"&median_ms={args.median_ms}&sigma={args.sigma}&seed={args.seed}"
            f"&explore={args.turns - 3}"
        )
        planner = LLMPlanner(
            manager(args.modules, args.median_ms / 1000, args.sigma, args.seed),
            WorkerSpec(model=worker_model, max_steps=args.turns + 2),
            max_tasks=args.modules,
        )
        start = time.monotonic()
        plan = intake.make_plan(repo, ChangeRequest(goal=GOAL, focus=("pkg/",)), planner, cfg)
        plan_s = time.monotonic() - start
        target, base = intake.preflight(repo, cfg)
        ledger, run_id = intake.open_run(repo, ChangeRequest(goal=GOAL), plan, cfg, target, base)
        start = time.monotonic()
        state = Orchestrator(repo, ledger, cfg, LocalExecutor(concurrency)).drive(run_id)
        drive_s = time.monotonic() - start
        if state != RunState.AWAITING_APPROVAL:
            events = [(e["kind"], e["data_json"]) for e in ledger.events(run_id)]
            raise SystemExit(f"run ended {state}: {events[-6:]}")
        figures = _figures(ledger, run_id, concurrency, plan_s, drive_s, planner.calls)
        if figures.verified != args.modules:
            failed = [
                (e["task_id"], e["data_json"])
                for e in ledger.events(run_id)
                if e["kind"] == "task_state" and '"failed"' in e["data_json"]
            ]
            raise SystemExit(f"only {figures.verified} of {args.modules} tasks verified: {failed}")
        return figures


def _figures(
    ledger: Ledger,
    run_id: str,
    concurrency: int,
    plan_s: float,
    drive_s: float,
    manager_calls: list[ModelCall],
) -> Figures:
    rows = ledger.attempts(run_id)
    worker_calls = [c for r in rows if (res := ledger.result(r.id)) for c in res.calls]
    verified = sum(1 for s in ledger.task_states(run_id).values() if s.value == "verified")
    return Figures(
        concurrency=concurrency,
        attempts_s=max(r.ended_at for r in rows) - min(r.started_at for r in rows),
        drive_s=drive_s,
        plan_s=plan_s,
        verified=verified,
        worker_tokens_per_task=sum(c.input_tokens or 0 for c in worker_calls) / len(rows),
        worker_tokens=sum((c.input_tokens or 0) + (c.output_tokens or 0) for c in worker_calls),
        manager_tokens=sum((c.input_tokens or 0) + (c.output_tokens or 0) for c in manager_calls),
    )


def report(args: argparse.Namespace, serial: Figures, swarm: Figures) -> str:
    k, c = args.modules, args.concurrency
    speedup = serial.attempts_s / swarm.attempts_s
    target = 0.9 * min(k, c)
    worker_total = swarm.worker_tokens * 1.0
    share = swarm.manager_tokens / (swarm.manager_tokens + worker_total + 1e-9)
    rows = [
        ("tasks (K) / concurrency (C)", f"{k} / {c}"),
        (
            "worker turns per task",
            f"{args.turns}, latency lognormal, median {args.median_ms} ms, sigma {args.sigma}",
        ),
        ("planning (manager)", f"{serial.plan_s:.2f} s / {swarm.plan_s:.2f} s"),
        ("attempts makespan, serial", f"{serial.attempts_s:.2f} s"),
        ("attempts makespan, swarm", f"{swarm.attempts_s:.2f} s"),
        (
            "speedup (serial / swarm)",
            f"{speedup:.2f}x (target >= {target:.2f}x: "
            f"{'met' if speedup >= target else 'NOT met'})",
        ),
        (
            "whole drive, serial / swarm",
            f"{serial.drive_s:.2f} s / {swarm.drive_s:.2f} s "
            f"({serial.drive_s / swarm.drive_s:.2f}x, with gate, "
            "integration and suite)",
        ),
        ("tasks verified", f"{serial.verified} / {swarm.verified} of {k}"),
        ("input tokens sent per task", f"{swarm.worker_tokens_per_task:.0f}"),
        (
            "manager share of tokens",
            f"{share:.1%} ({swarm.manager_tokens} of {swarm.manager_tokens + worker_total:.0f})",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", type=int, default=8, help="K: modules to edit")
    parser.add_argument("--concurrency", type=int, default=4, help="C: attempts at once")
    parser.add_argument("--median-ms", type=int, default=250, help="median turn latency")
    parser.add_argument("--sigma", type=float, default=0.5, help="lognormal sigma")
    parser.add_argument("--turns", type=int, default=12, help="worker turns per task (>= 3)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from pydantic_ai import models

    models.ALLOW_MODEL_REQUESTS = False  # scripted models only: nothing leaves this machine
    serial = run_once(args, 1)
    swarm = run_once(args, args.concurrency)
    print(report(args, serial, swarm))


if __name__ == "__main__":
    main()
