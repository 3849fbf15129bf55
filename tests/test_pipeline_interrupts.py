"""End to end on real git repositories: a run that is killed, interrupted or stuck. The run to
kill is the real CLI in a process of its own; the rest (status, resume) runs in this process.

Split from ``test_pipeline`` so that two test processes share the spine's end-to-end runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from repo_helpers import (
    GIT_ENV,
    crewchief_here,
    git,
    status_json,
    task_states,
    wait_until_gone,
    write_plan,
)

#: A backstop only: the wait for a task's state ends as soon as the state is reached.
STATE_BACKSTOP_S = 300.0
#: Between two looks at a running run's status (each look is a status query of its own).
POLL_S = 0.1


def _wait_for_go(go: Path) -> str:
    """A shell line that blocks until the test creates ``go`` (visible read-only in the
    sandbox): the task is held running for as long as the test needs, however slow the
    machine, with no sleep to outlast."""
    return f"while [ ! -e {go} ]; do sleep 0.05; done"


def test_sigkill_mid_run_then_resume_finishes_without_redoing_work(
    project: Path, signal_dir: Path
) -> None:
    go = signal_dir / "go"
    hold = _wait_for_go(go)
    plan = write_plan(
        project,
        [
            {"id": "s0", "owns": ["alpha/a.py"], "command": "echo '# 0' >> alpha/a.py"},
            {"id": "s1", "owns": ["beta/b.py"], "command": f"{hold}; echo '# 1' >> beta/b.py"},
            {"id": "s2", "owns": ["gamma/c.py"], "command": f"{hold}; echo '# 2' >> gamma/c.py"},
        ],
    )
    proc = _run_until(project, plan, "s0", "verified", start_new_session=True)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    states = task_states(project)
    assert states["s0"] == "verified" and states["s2"] != "verified"
    assert status_json(project)["state"] == "interrupted"  # the ledger says running; no driver
    go.touch()
    resumed = crewchief_here(project, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert task_states(project) == {"s0": "merged", "s1": "merged", "s2": "merged"}
    attempts = {t["task"]: t["attempts"] for t in status_json(project)["task_list"]}
    assert attempts["s0"] == 1


def _run_until(
    project: Path, plan: Path, task_id: str, state: str, *, start_new_session: bool = False
) -> subprocess.Popen[str]:
    """`crewchief run --plan` with one worker, in the background, once ``task_id`` is in
    ``state`` (or at a generous backstop, when the caller's assertions then say what failed)."""
    args = [sys.executable, "-m", "crewchief", "run", "--plan", str(plan), "--workers", "1"]
    proc = subprocess.Popen(
        args,
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **GIT_ENV},
        text=True,
        start_new_session=start_new_session,
    )
    deadline = time.monotonic() + STATE_BACKSTOP_S
    while time.monotonic() < deadline and _state(project, task_id) != state:
        assert proc.poll() is None, f"the run ended before {task_id} was {state}"
        time.sleep(POLL_S)
    return proc


def _state(project: Path, task_id: str) -> str | None:
    """``task_id``'s state by ``crewchief status``; None before the run has it."""
    proc = crewchief_here(project, "status", "--json")
    if proc.returncode != 0:  # no ledger or no run yet
        return None
    tasks = json.loads(proc.stdout)["task_list"]
    return next((t["state"] for t in tasks if t["task"] == task_id), None)


def test_a_worker_that_hangs_is_killed_with_its_children_at_the_timeout(project: Path) -> None:
    token = f"CC_HANG_{os.getpid()}_{time.monotonic_ns()}=1"
    # Both would outlive any test run (the suite's backstop is far shorter) unless killed.
    plan = write_plan(
        project,
        [
            {
                "id": "hang",
                "owns": ["alpha/a.py"],
                "command": f"export {token}; (sleep 3000) & sleep 3000",
            }
        ],
    )
    proc = crewchief_here(project, "run", "--plan", str(plan), "--timeout", "1", "--yes")
    assert proc.returncode == 1
    assert task_states(project) == {"hang": "failed"}
    assert wait_until_gone(token.split("=")[0]) == [], "the worker's child outlived the timeout"


def test_ctrl_c_leaves_a_resumable_run(project: Path, signal_dir: Path) -> None:
    go = signal_dir / "go"
    hold = _wait_for_go(go)
    plan = write_plan(
        project,
        [
            {
                "id": f"c{i}",
                "owns": [f"{pkg}/{mod}.py"],
                "command": f"{hold}; echo '# {i}' >> {pkg}/{mod}.py",
            }
            for i, (pkg, mod) in enumerate([("alpha", "a"), ("beta", "b")])
        ],
    )
    proc = _run_until(project, plan, "c0", "running")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=STATE_BACKSTOP_S)
    assert proc.returncode == 130
    assert "crewchief resume" in err
    assert status_json(project)["state"] == "interrupted"
    assert set(task_states(project).values()) == {"ready"}
    go.touch()
    resumed = crewchief_here(project, "resume", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert task_states(project) == {"c0": "merged", "c1": "merged"}


def test_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    proc = crewchief_here(tmp_path, "demo", "--dir", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    demo = tmp_path / "demo"
    assert "Crewchief-Instruction: sha256:" in proc.stdout
    assert len(git(demo, "rev-list", "main").split()) == 6  # initial + one per package
    assert "fetch_user(" not in (demo / "orders/checkout.py").read_text()
    assert status_json(demo)["state"] == "merged"
