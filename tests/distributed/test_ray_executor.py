"""The Ray executor through the real orchestrator on a real local Ray cluster (one for the whole
file): the same patches and commits as the local executor, the gate still on the driver, the
timeout and Ctrl-C holding remotely, resume after an interruption."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# "ray.util": a bare "ray" would also find this directory (tests/ray) when Ray is missing.
import ray  # a dev dependency: the distributed tests never skip

from crewchief import config
from crewchief.attempts.executor import Executor, LocalExecutor
from crewchief.attempts.ray_executor import RayExecutor
from crewchief.ledger.store import Ledger
from crewchief.merge import integrate
from crewchief.records import ChangeRequest, Plan, Task
from crewchief.run import intake
from crewchief.run.orchestrate import Orchestrator
from repo_helpers import GIT_ENV, crewchief_here, git, status_json, task_states, wait_until_gone


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """One local two-CPU cluster for every test here; yields its address for other drivers."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ctx = ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR
    )
    yield str(ctx.address_info["gcs_address"])
    ray.shutdown()


def command_plan(tasks: dict[str, tuple[str, str]]) -> Plan:
    """A plan of ``recipe:command`` tasks: id → (owned path, shell command)."""
    return Plan(
        goal="test plan",
        planner="hand-written",
        tasks=tuple(
            Task(
                id=tid,
                title=f"task {tid}",
                instructions=cmd,
                owned_paths=(owned,),
                backend="recipe:command",
                spec={"command": cmd},
            )
            for tid, (owned, cmd) in tasks.items()
        ),
    )


def drive(repo: Path, plan: Plan, executor: Executor, **cfg: Any) -> tuple[Ledger, str]:
    """Open a run of ``plan`` and drive it with ``executor`` up to the human gate."""
    settings = config.load(repo, cfg)
    target, base = intake.preflight(repo, settings)
    ledger, run_id = intake.open_run(
        repo, ChangeRequest(goal=plan.goal), plan, settings, target, base
    )
    Orchestrator(repo, ledger, settings, executor).drive(run_id)
    return ledger, run_id


def landed(repo: Path, ledger: Ledger, run_id: str) -> list[tuple[str, bytes, str]]:
    """Per integration commit: its task, the accepted patch, its trailers with the run id
    taken out (the only thing that differs between two runs of one plan)."""
    rows = []
    for row in ledger.integration_chain(run_id):
        result = ledger.result(row.attempt_id)
        assert result is not None
        trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", row.commit_id)
        rows.append((row.task_id, result.patch, trailers.replace(run_id, "RUN")))
    return rows


PACKAGES = [("alpha", "a"), ("beta", "b"), ("gamma", "c")]
EDITS = {
    f"e{i}": (f"{pkg}/{mod}.py", f"sed -i 's/^def /# edited {i}\\ndef /' {pkg}/{mod}.py")
    for i, (pkg, mod) in enumerate(PACKAGES)
}


def test_a_ray_run_lands_the_same_patches_and_trailers_as_a_local_run(
    project: Path, ray_cluster: str
) -> None:
    plan = command_plan(EDITS)
    local, local_run = drive(project, plan, LocalExecutor(2))
    remote, remote_run = drive(project, plan, RayExecutor(2, None))
    assert local.run(local_run).state == remote.run(remote_run).state == "awaiting_approval"
    # The merge queue lands in the order the patches were verified, which the workers decide.
    assert sorted(landed(project, remote, remote_run)) == sorted(landed(project, local, local_run))
    assert len(landed(project, remote, remote_run)) == len(EDITS)
    trees = [
        git(project, "rev-parse", f"{integrate.run_ref(r)}^{{tree}}")
        for r in (local_run, remote_run)
    ]
    assert trees[0] == trees[1]
    assert git(project, "status", "--porcelain") == ""


def test_the_driver_gate_rejects_a_patch_made_out_of_scope_remotely(
    project: Path, ray_cluster: str
) -> None:
    plan = command_plan(
        {
            "good": ("alpha/a.py", "echo '# ok' >> alpha/a.py"),
            "sneaky": ("beta/b.py", "echo '# edited' >> beta/b.py && echo 'x = 1' >> lib/api.py"),
        }
    )
    ledger, run_id = drive(project, plan, RayExecutor(2, None))
    assert ledger.task_states(run_id) == {"good": "verified", "sneaky": "rejected"}
    attempt = ledger.attempts(run_id, "sneaky")[0].id
    result = ledger.result(attempt)
    assert result is not None and b"+x = 1" in result.patch  # the remote worker made it
    checks = ledger.checks(run_id)
    assert [c.kind for c in checks if c.task_id == "sneaky" and not c.passed] == ["scope"]
    assert [r.task_id for r in ledger.integration_chain(run_id)] == ["good"]


def test_a_hanging_remote_worker_is_killed_with_its_children_at_the_timeout(
    project: Path, ray_cluster: str
) -> None:
    token = f"CC_RAY_HANG_{os.getpid()}_{time.monotonic_ns()}"
    command = f"export {token}=1; (sleep 3000) & sleep 3000"
    plan = command_plan({"hang": ("alpha/a.py", command)})
    ledger, run_id = drive(project, plan, RayExecutor(2, None), task_timeout_s=1)
    assert ledger.task_states(run_id) == {"hang": "failed"}
    result = ledger.result(ledger.attempts(run_id, "hang")[0].id)
    assert result is not None and "timed out" in (result.error or "")
    assert wait_until_gone(token) == [], "the remote worker's child outlived the timeout"


def test_ctrl_c_cancels_the_ray_tasks_and_the_run_resumes(
    project: Path, ray_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CREWCHIEF_EXECUTOR", "ray")
    # A second driver on the same cluster (the fixture's ray.init left RAY_AUTH_MODE=token in
    # the environment and the token under ~/.ray, where this driver finds them).
    monkeypatch.setenv("CREWCHIEF_RAY_ADDRESS", ray_cluster)
    marker, go = project.parent / "cancelled-child-survived", project.parent / "go"
    # Each worker starts a child that would leave a mark, then waits until the test says go.
    wait_for_go = f"(sleep 2 && touch {marker}) & (test -e {go} || sleep 30)"
    slow = {
        f"c{i}": (f"{pkg}/{mod}.py", f"{wait_for_go} && echo '# {i}' >> {pkg}/{mod}.py")
        for i, (pkg, mod) in enumerate(PACKAGES[:2])
    }
    plan_file = project.parent / "plan.json"
    plan_file.write_text(command_plan(slow).model_dump_json())
    args = [sys.executable, "-m", "crewchief", "run", "--plan", str(plan_file), "--workers", "2"]
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.Popen(
        args, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    deadline = time.monotonic() + 60
    while not _both_running(project):
        assert proc.poll() is None and time.monotonic() < deadline, "c0 and c1 never both ran"
        time.sleep(0.05)
    time.sleep(0.5)  # the Ray tasks are under way
    interrupted = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert status_json(project)["state"] == "interrupted"
    assert set(task_states(project).values()) == {"ready"}
    time.sleep(max(0.0, interrupted + 2.5 - time.monotonic()))
    assert not marker.exists(), "a cancelled remote worker's child kept running"
    go.touch()
    resumed = subprocess.run(
        [sys.executable, "-m", "crewchief", "resume", "--yes"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert task_states(project) == {"c0": "merged", "c1": "merged"}
    assert (project / "beta/b.py").read_text().endswith("# 1\n")


def _both_running(project: Path) -> bool:
    """Both tasks are running, as ``status --json`` shows the run the CLI's process drives."""
    shown = crewchief_here(project, "status", "--json")
    if shown.returncode != 0 and any(n in shown.stderr for n in ("no crewchief runs", "no plan")):
        return False  # the run, or its plan, is not recorded yet
    assert shown.returncode == 0, shown.stderr
    states = [t["state"] for t in json.loads(shown.stdout)["task_list"]]
    return states == ["running", "running"]
