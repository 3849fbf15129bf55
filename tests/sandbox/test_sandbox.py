"""The sandbox on this machine: environment, limits, output bounds, filesystem and git reach."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import pytest

import repo_helpers
from crewchief import git
from crewchief.attempts.procio import _Buffer
from crewchief.sandbox.runner import (
    MiB,
    SandboxConfig,
    SandboxRun,
    WorkerSandbox,
    bwrap_path,
    report,
)

HAS_BWRAP = bwrap_path() is not None
needs_bwrap = pytest.mark.skipif(not HAS_BWRAP, reason="no usable bwrap")
MODES = [pytest.param("bwrap", marks=needs_bwrap), "none"]


def _py(box: WorkerSandbox, code: str, **kw: object) -> SandboxRun:
    return box.run([sys.executable, "-c", code], timeout_s=kw.pop("timeout_s", 20), **kw)  # type: ignore[arg-type]


def _with_tag(tag: str) -> list[str]:
    """Processes whose command line holds ``tag``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if tag.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def _sh(box: WorkerSandbox, script: str) -> SandboxRun:
    return box.run(["bash", "-c", script], timeout_s=20)


@pytest.mark.parametrize("mode", MODES)
def test_environment_is_scrubbed_but_passed_variables_arrive(
    worktree: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_PARENT_TOKEN", "parent-secret-123")
    with WorkerSandbox(worktree, SandboxConfig(mode=mode), env={"MODEL_KEY": "k-123"}) as box:
        run = _py(box, "import os, json; print(json.dumps(dict(os.environ)))")
        home = str(box.home)
    env = json.loads(run.stdout.text())
    assert "SOME_PARENT_TOKEN" not in env
    assert env["MODEL_KEY"] == "k-123"
    assert env["HOME"] == home and env["PATH"] == os.environ["PATH"]
    assert not any(k.startswith(("SSH_", "AWS_", "GITHUB_")) for k in env)


@pytest.mark.parametrize("mode", MODES)
def test_cwd_is_the_worktree_and_home_is_a_fresh_temp_dir(worktree: Path, mode: str) -> None:
    with WorkerSandbox(worktree, SandboxConfig(mode=mode)) as box:
        run = _sh(box, 'pwd; ls -A "$HOME" | wc -l')
        scratch = box.scratch
    assert run.stdout.text().split() == [str(worktree.resolve()), "0"]
    assert not scratch.exists()  # removed afterwards


@pytest.mark.parametrize("mode", MODES)
def test_file_size_limit_is_enforced(worktree: Path, mode: str) -> None:
    cfg = SandboxConfig(mode=mode, max_file_bytes=MiB)
    code = "open('big.bin','wb').write(b'x' * (2 * 1024 * 1024))"
    with WorkerSandbox(worktree, cfg) as box:
        run = _py(box, code)
    assert run.returncode != 0
    assert "File too large" in run.stderr.text()
    assert (worktree / "big.bin").stat().st_size <= MiB


@pytest.mark.parametrize("mode", MODES)
def test_memory_limit_is_enforced(worktree: Path, mode: str) -> None:
    cfg = SandboxConfig(mode=mode, max_memory_bytes=512 * MiB)
    with WorkerSandbox(worktree, cfg) as box:
        run = _py(box, "b = bytearray(1024 * 1024 * 1024)")
    assert run.returncode != 0 and "MemoryError" in run.stderr.text()


def test_output_keeps_head_and_tail_and_counts_the_rest() -> None:
    buf = _Buffer(10)
    for chunk in (b"abc", b"defgh", b"ijklmnopq", b"rstuvwxyz"):
        buf.add(chunk)
    cap = buf.captured()
    assert (cap.head, cap.tail, cap.dropped) == (b"abcde", b"vwxyz", 16)
    assert cap.data() == b"abcde\n[... 16 bytes dropped ...]\nvwxyz"


@pytest.mark.parametrize("mode", MODES)
def test_large_stdin_and_stdout_do_not_deadlock(worktree: Path, mode: str) -> None:
    data = os.urandom(3 * MiB)
    cfg = SandboxConfig(mode=mode, max_output_bytes=8 * MiB)
    with WorkerSandbox(worktree, cfg) as box:
        run = box.run(["cat"], timeout_s=20, stdin=data)
    assert run.returncode == 0 and run.stdout.data() == data


@pytest.mark.parametrize("mode", MODES)
def test_missing_program_is_reported_not_raised(worktree: Path, mode: str) -> None:
    with WorkerSandbox(worktree, SandboxConfig(mode=mode)) as box:
        run = box.run(["no-such-program-crewchief"], timeout_s=10)
    assert run.returncode not in (0, None)


@needs_bwrap
def test_worker_can_use_git_in_its_worktree_but_not_write_the_repository(worktree: Path) -> None:
    repo = worktree.parent.parent.parent
    script = """
    set -u
    echo b >> a.txt
    git status --porcelain && git diff --stat && echo STATUS-OK
    git add -A && echo ADD-OK
    git commit -qm worker && echo COMMIT-OK
    git update-ref refs/heads/main HEAD 2>/dev/null && echo MOVED-MAIN
    echo x > "$REPO/.git/hooks/post-checkout" 2>/dev/null && echo WROTE-HOOK
    echo x > "$REPO/.git/refs/heads/evil" 2>/dev/null && echo WROTE-REF
    echo x > "$REPO/a.txt" 2>/dev/null && echo WROTE-CHECKOUT
    echo 'gitdir: /tmp' > .git 2>/dev/null && echo WROTE-DOTGIT
    true
    """
    main_before = git.rev_parse(repo, "refs/heads/main")
    with WorkerSandbox(worktree, SandboxConfig(mode="bwrap"), env={"REPO": str(repo)}) as box:
        run = _sh(box, script)
    said = run.stdout.text().split()
    assert {"STATUS-OK", "ADD-OK", "COMMIT-OK"} <= set(said)
    assert not {"MOVED-MAIN", "WROTE-HOOK", "WROTE-REF", "WROTE-CHECKOUT", "WROTE-DOTGIT"} & set(
        said
    )
    assert box.tampered == ()
    assert git.rev_parse(repo, "refs/heads/main") == main_before
    assert git.rev_parse(worktree, "HEAD") == main_before  # worker's commit undone
    assert git.diff_worktree(worktree, main_before).count(b"+b") == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_branch_moved_by_someone_else_meanwhile_is_no_fault_of_a_confined_worker(
    worktree: Path, mode: str
) -> None:
    """``merge --ready`` (or the user) moves main while a worker runs: under bubblewrap the
    worker could not have done it, so it is not reported; unconfined, it may have been."""
    repo = worktree.parent.parent.parent
    (repo / "a.txt").write_text("moved\n")
    git.run(["commit", "-qam", "moved by the person"], repo)
    moved = git.rev_parse(repo, "HEAD")
    git.run(["reset", "-q", "--hard", "HEAD~1"], repo)
    with WorkerSandbox(worktree, SandboxConfig(mode=mode)) as box:
        _sh(box, "true")
        git.run(["update-ref", "refs/heads/main", moved], repo)
    if mode == "bwrap":
        assert box.tampered == ()
    else:
        assert any("refs/heads/main (not restored)" in t for t in box.tampered)
    assert git.rev_parse(repo, "refs/heads/main") == moved


@needs_bwrap
def test_tmp_is_private_and_home_is_hidden(worktree: Path) -> None:
    secret = Path.home() / f".crewchief-test-{uuid.uuid4().hex}"
    secret.write_text("private\n")
    marker = f"/tmp/crewchief-test-{uuid.uuid4().hex}"
    try:
        with WorkerSandbox(worktree, SandboxConfig(mode="bwrap")) as box:
            run = _sh(box, f"cat {secret} 2>&1; echo hi > {marker}; ls {marker}")
        assert "private" not in run.stdout.text()
        assert not Path(marker).exists()
    finally:
        secret.unlink()


@pytest.mark.parametrize("mode", MODES)
def test_processes_that_leave_the_group_die_with_the_sandbox(worktree: Path, mode: str) -> None:
    tag = f"crewchief-test-{uuid.uuid4().hex}"
    sleeper = f"[{sys.executable!r}, '-c', 'import time; time.sleep(300)', {tag!r}]"
    code = f"import subprocess\nsubprocess.Popen({sleeper}, start_new_session=True)\n"
    with WorkerSandbox(worktree, SandboxConfig(mode=mode)) as box:
        run = _py(box, code)
    assert run.returncode == 0
    assert _with_tag(tag) == []


def test_report_says_what_is_and_is_not_enforced() -> None:
    none = report(SandboxConfig(mode="none"))
    assert not none.filesystem_read_only and not none.network_isolated
    assert any("filesystem" in n for n in none.not_enforced)
    assert none.env_scrubbed and none.output_capped_bytes == MiB
    if HAS_BWRAP:
        full = report(SandboxConfig())
        assert full.filesystem_read_only and full.network_isolated and full.pid_namespace
        allowlisted = report(SandboxConfig(model_endpoint="https://api.example.com"))
        assert allowlisted.network_isolated
        assert allowlisted.network == "only https://api.example.com"
        online = report(SandboxConfig(network=True))
        assert not online.network_isolated
        assert any("network: ON" in n for n in online.not_enforced)
    if os.geteuid() == 0:
        assert not none.nproc_enforced


@needs_bwrap
def test_repository_under_a_hidden_home_stays_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE\n")
    monkeypatch.setenv("HOME", str(home))
    root = repo_helpers.make_repo(home / "code" / "repo", {"a.txt": "a\n"}, message="base")
    wt = root / ".crewchief" / "worktrees" / "w1"
    repo_helpers.git(root, "worktree", "add", "-q", "--detach", str(wt), "HEAD")
    script = f"cat {home}/.ssh/id_ed25519 2>&1; cat {root}/a.txt; echo b >> a.txt && echo EDITED"
    with WorkerSandbox(wt, SandboxConfig(mode="bwrap")) as box:
        run = _sh(box, script)
    out = run.stdout.text()
    assert "PRIVATE" not in out
    assert "a\n" in out and "EDITED" in out
    assert (wt / "a.txt").read_text() == "a\nb\n"
