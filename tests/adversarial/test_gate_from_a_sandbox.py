"""The human gate's commands refuse to act for a worker: ``crewchief review`` and ``merge`` run
from inside a crewchief sandbox exit 2 and change nothing, even when the worker has removed the
sandbox's variable from its environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import crewchief
from crewchief.attempts.procio import MARKER_VAR
from crewchief.sandbox.confinement import MARKER_PATH
from crewchief.sandbox.runner import SandboxConfig, WorkerSandbox, bwrap_path
from repo_helpers import git, init_repo

SOURCE = str(Path(crewchief.__file__).resolve().parents[1])
HAS_BWRAP = bwrap_path() is not None
MODES = [
    pytest.param("bwrap", marks=pytest.mark.skipif(not HAS_BWRAP, reason="no usable bwrap")),
    "none",
]


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = init_repo(tmp_path / "repo")
    git(repo, "commit", "-q", "--allow-empty", "-m", "base")
    return repo, git(repo, "rev-parse", "main")


def _gate_from_worker(repo: Path, mode: str, *command: str) -> subprocess.CompletedProcess[str]:
    """``crewchief COMMAND`` run by a worker (a shell) that drops the sandbox's variable first.
    (Without bubblewrap only the environment the worker started with gives it away: a worker
    that execs straight into crewchief without it is not detected there.)"""
    gate = ["env", "-u", MARKER_VAR, sys.executable, "-m", "crewchief", *command, "--repo"]
    script = " ".join([*gate, str(repo)]) + '; exit "$?"'
    config = SandboxConfig(mode=mode)  # type: ignore[arg-type]
    with WorkerSandbox(repo, config, env={"PYTHONPATH": SOURCE}) as box:
        run = box.run(["sh", "-c", script], timeout_s=120)
    out, err = run.stdout.text(), run.stderr.text()
    return subprocess.CompletedProcess(gate, run.returncode or 0, out, err)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("command", [["merge"], ["review", "--approve-all"]])
def test_the_gate_refuses_to_run_inside_a_sandbox_without_its_variable(
    tmp_path: Path, mode: str, command: list[str]
) -> None:
    repo, head = _repo(tmp_path)
    proc = _gate_from_worker(repo, mode, *command)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"`crewchief {command[0]}` refuses to run inside a crewchief sandbox" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert git(repo, "rev-parse", "main") == head
    assert not (repo / ".crewchief").exists()


@pytest.mark.skipif(not HAS_BWRAP, reason="no usable bwrap")
def test_a_worker_cannot_remove_the_sandbox_marker(tmp_path: Path) -> None:
    repo, _ = _repo(tmp_path)
    m = MARKER_PATH
    attack = f"rm -f {m}; mv {m} /run/x; echo x > {m}; cat {m}"
    with WorkerSandbox(repo, SandboxConfig(mode="bwrap")) as box:
        run = box.run(["sh", "-c", attack], timeout_s=60)
    assert run.stdout.text() == "this process runs inside a crewchief sandbox\n"
