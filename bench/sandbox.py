"""The added cost per attempt of the sandbox: the same attempt with and without it, in one run.

    .venv/bin/python bench/sandbox.py [--runs 9]

One attempt = what ``crewchief run`` does for one command-recipe task: a pooled worktree reset to
the base, the worker process, its command (``echo … >> {files}``), the diff, the gate with one fast
check (``python -m compileall -q {files}``). It runs alternately with every sandbox on (bubblewrap:
the command and the check each in their own) and with ``sandbox = "off"`` for both (scrubbed
environment and limits only), ``--runs`` times each after one warm-up of each; reported are the
medians and their difference, the added cost per attempt.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crewchief.attempts.dispatch import run_attempt
from crewchief.attempts.worker_part import warm_up
from crewchief.attempts.workspace import WorkspacePool
from crewchief.config import Config
from crewchief.records import Task

_ID = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
TASK = Task(
    id="t1",
    title="append a comment",
    instructions="append a comment",
    owned_paths=("mod.py",),
    backend="recipe:command",
    spec={"command": "echo '# bench' >> {files}"},
)


def _repo(root: Path) -> tuple[Path, str]:
    repo = root / "repo"
    repo.mkdir()
    (repo / "mod.py").write_text("VALUE = 1\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*_ID, "commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    return repo, head.stdout.strip()


def _config(mode: str) -> Config:
    return Config(
        fast_checks=[f"{sys.executable} -m compileall -q {{files}}"],
        sandbox=mode,  # type: ignore[arg-type]
        recipe_sandbox={"command": mode},  # type: ignore[dict-item]
    )


def _attempt(repo: Path, pool: WorkspacePool, cfg: Config, base: str, n: int) -> float:
    start = time.perf_counter()
    out = run_attempt(repo, pool, cfg, TASK, f"bench.t1.{n}", base)
    elapsed = time.perf_counter() - start
    if out.result.status != "ok" or not all(c.passed for c in out.checks):
        raise SystemExit(f"attempt failed: {out.result.error} {[c.output for c in out.checks]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crewchief-bench-") as d:
        repo, base = _repo(Path(d))
        pool = WorkspacePool(repo)
        warm_up([TASK], Config())
        times: dict[str, list[float]] = {"auto": [], "off": []}
        n = 0
        for i in range(args.runs + 1):  # the first round warms up and is not counted
            for mode in ("auto", "off"):
                n += 1
                elapsed = _attempt(repo, pool, _config(mode), base, n)
                if i:
                    times[mode].append(elapsed)
        pool.close()
    on, off = statistics.median(times["auto"]), statistics.median(times["off"])
    print(f"attempts per mode: {args.runs} (alternating, after one warm-up each)")
    print(f"median attempt, sandboxed (bubblewrap): {on * 1000:.0f} ms")
    print(f"median attempt, sandbox off:           {off * 1000:.0f} ms")
    print(f"added cost per attempt:                {(on - off) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
