"""The sandbox's edges: bubblewrap is required unless opted out, its probe is retried, crewchief's
own state is invisible inside, and a run's survivors are found by its id."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from crewchief.attempts.procio import MARKER_VAR, kill_owned
from crewchief.sandbox.runner import (
    PROBE_TRIES,
    SandboxConfig,
    SandboxUnavailable,
    probe_bwrap,
    run_shell,
)


@pytest.fixture
def worktree(worktree: Path) -> Path:
    """The shared worktree (conftest), with a ledger beside it for the sandbox to hide."""
    (worktree.parent.parent / "ledger.db").write_text("the ledger\n")
    return worktree


def _flaky_bwrap(tmp_path: Path, failures: int) -> tuple[Path, Path]:
    """A stand-in bubblewrap that fails its first ``failures`` calls, then runs the real one;
    each call is counted in a file."""
    calls = tmp_path / "calls"
    program = tmp_path / f"flaky-bwrap-{failures}"
    program.write_text(
        f"#!/bin/sh\necho x >> {calls}\n"
        f'[ "$(wc -l < {calls})" -le {failures} ] && exit 1\nexec bwrap "$@"\n'
    )
    program.chmod(0o755)
    return program, calls


def test_a_probe_that_fails_transiently_is_retried_not_read_as_no_sandbox(tmp_path: Path) -> None:
    program, calls = _flaky_bwrap(tmp_path, failures=PROBE_TRIES - 1)
    assert probe_bwrap(str(program)) == str(program)
    assert len(calls.read_text().split()) == PROBE_TRIES


def test_a_bwrap_that_never_works_is_refused_after_every_try(tmp_path: Path) -> None:
    program, calls = _flaky_bwrap(tmp_path, failures=10**6)
    with pytest.raises(SandboxUnavailable, match="apt install bubblewrap"):
        probe_bwrap(str(program))
    assert len(calls.read_text().split()) == PROBE_TRIES


@pytest.mark.parametrize("mode", ["auto", "bwrap"])
def test_without_bubblewrap_nothing_runs_unless_the_sandbox_is_off(
    worktree: Path, tmp_path: Path, mode: str
) -> None:
    missing = str(tmp_path / "no-bwrap")
    with pytest.raises(SandboxUnavailable, match='sandbox = "off"'):
        run_shell("touch ran", worktree, SandboxConfig(mode=mode, bwrap=missing), timeout_s=30)
    assert not (worktree / "ran").exists()
    run_shell("touch ran", worktree, SandboxConfig(mode="off", bwrap=missing), timeout_s=30)
    assert (worktree / "ran").exists()


def test_crewchiefs_state_and_the_other_worktrees_are_invisible_inside(worktree: Path) -> None:
    state = worktree.parent.parent
    other = state / "worktrees" / "w2"
    other.mkdir()
    script = (
        f"cat {state}/ledger.db 2>/dev/null && echo LEDGER-READ; ls {state}/worktrees; "
        f"echo x 2>/dev/null > {other}/planted"
    )
    result = run_shell(script, worktree, SandboxConfig(), timeout_s=30)
    assert result.output.split() == ["w1"]  # only its own worktree, bound back in
    assert not (other / "planted").exists()


def test_a_check_sees_only_the_variables_it_is_given(
    worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-canary")
    monkeypatch.setenv("NEEDED_BY_TESTS", "yes")
    box = SandboxConfig(pass_env=("NEEDED_BY_TESTS",))
    out = run_shell("env", worktree, box, timeout_s=30).output
    assert "sk-ant-canary" not in out and "NEEDED_BY_TESTS=yes" in out


def test_a_check_that_changes_git_metadata_fails_and_is_undone(worktree: Path) -> None:
    admin = worktree.parent.parent.parent / ".git" / "worktrees" / "w1"
    before = (admin / "HEAD").read_text()
    result = run_shell(
        "echo junk > $(git rev-parse --git-dir)/gitdir",
        worktree,
        SandboxConfig(mode="off"),
        timeout_s=30,
    )
    assert not result.ok and result.tampered
    assert (admin / "HEAD").read_text() == before
    assert "junk" not in (admin / "gitdir").read_text()


def _marked_sleeper(marker: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, MARKER_VAR: marker}
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=env)


def test_resume_finds_a_runs_survivors_by_its_id_and_no_one_elses() -> None:
    run = f"20990101-000000-{uuid.uuid4().hex[:6]}"
    ours = [_marked_sleeper(f"{run}.t1.1/box"), _marked_sleeper(f"{run}/suite")]
    theirs = _marked_sleeper(f"{run}0.t1.1/box")  # a run whose id merely starts like ours
    deadline = time.monotonic() + 30
    while not all(Path(f"/proc/{p.pid}/environ").read_bytes() for p in [*ours, theirs]):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert kill_owned(run) == 2
        assert [p.wait(timeout=30) for p in ours] == [-9, -9]
        assert theirs.poll() is None
    finally:
        theirs.kill()
        theirs.wait()
