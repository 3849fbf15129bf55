"""Real subprocess agents through backend → diff → policy: each ends with the right outcome and
no effect outside its worktree."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from agent_harness import HAS_BWRAP, MODES, SCRIPTS, Repo

from crewchief import git


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("via", ["stdin", "file", "arg"])
def test_agent_that_edits_as_told_gives_a_clean_patch(repo: Repo, mode: str, via: str) -> None:
    before = repo.state()
    out = repo.run_agent(
        "edit_as_told.py", mode=mode, via=via, instructions="@write src/a.py print('hello')"
    )
    assert out.result.status == "ok", out.result.error
    assert out.decision.accepted
    assert b"+print('hello')" in out.patch and b"src/a.py" in out.patch
    assert out.result.rationale.startswith("Wrote src/a.py as asked.")
    assert out.result.assumptions == ("the file is UTF-8 text",)
    assert out.result.usage.cost_usd is None  # a plain-text CLI reports none: unknown, not 0
    assert repo.state() == before


@pytest.mark.parametrize("mode", MODES)
def test_agent_editing_outside_its_scope_is_refused(repo: Repo, mode: str) -> None:
    out = repo.run_agent("scope_creep.py", mode=mode, instructions="@write src/a.py x = 1")
    assert out.result.status == "ok"
    assert not out.decision.accepted
    assert [(v.code, v.path) for v in out.decision.violations] == [("outside_scope", "lib/b.py")]


@pytest.mark.parametrize("mode", MODES)
def test_agent_writing_git_hooks_changes_nothing_outside_its_worktree(
    repo: Repo, mode: str
) -> None:
    before = repo.state()
    out = repo.run_agent("git_hooks.py", mode=mode)
    assert repo.state() == before
    assert not (repo.root / ".git" / "hooks" / "pre-commit").exists()
    if mode == "bwrap":  # every attempt failed: read-only
        assert "hook: failed" in out.result.log and "dotgit: failed" in out.result.log
        assert out.result.status == "ok" and out.decision.accepted
    else:  # it got through, was undone afterwards, and the attempt is marked failed
        assert "hook: done" in out.result.log
        assert out.result.status == "error"
        assert "changed git metadata" in (out.result.error or "")


@pytest.mark.parametrize("mode", MODES)
def test_agent_symlinking_etc_passwd_is_refused(repo: Repo, mode: str) -> None:
    out = repo.run_agent("symlink_passwd.py", mode=mode)
    assert out.decision.codes() == {"symlink_escape"}
    assert out.decision.violations[0].path == "src/passwd"


@pytest.mark.parametrize("mode", MODES)
def test_hanging_agent_times_out(repo: Repo, mode: str) -> None:
    out = repo.run_agent("hang.py", mode=mode, timeout_s=2.0)
    assert out.result.status == "timeout"
    assert out.result.duration_s < 4.0
    assert "thinking..." in out.result.log
    assert repo.leftovers() == []


@pytest.mark.parametrize("mode", MODES)
def test_agent_forking_children_and_hanging_leaves_no_process(repo: Repo, mode: str) -> None:
    out = repo.run_agent("fork_hang.py", mode=mode, timeout_s=2.0)
    assert out.result.status == "timeout"
    assert "spawned helpers" in out.result.log
    assert repo.leftovers() == []


@pytest.mark.parametrize("mode", MODES)
def test_agent_printing_100_mb_is_captured_bounded(repo: Repo, mode: str) -> None:
    out = repo.run_agent("flood.py", mode=mode)
    assert out.result.status == "ok"
    assert len(out.result.log) < 100_000
    assert f"stdout: {100 * 1024 * 1024} bytes, " in out.result.log
    assert "not kept" in out.result.log and "flooded" in out.result.log
    assert out.result.duration_s < 10


@pytest.mark.parametrize("mode", MODES)
def test_agent_commits_are_squashed_into_one_patch(repo: Repo, mode: str) -> None:
    before = repo.state()
    out = repo.run_agent("self_commit.py", mode=mode)
    assert out.result.status == "ok", out.result.error
    assert out.decision.accepted
    assert b"+print('second')" in out.patch and b"b/src/new.py" in out.patch
    assert b"first" not in out.patch
    assert git.rev_parse(repo.worktree, "HEAD") == repo.base  # the worktree is back at base
    assert repo.state() == before


@pytest.mark.parametrize("mode", MODES)
def test_agent_deleting_everything_is_refused(repo: Repo, mode: str) -> None:
    before = repo.state()
    args = ("--everything", str(repo.root)) if mode == "bwrap" else ()
    out = repo.run_agent("delete_all.py", mode=mode, args=args)
    assert out.decision.codes() == {"delete_unowned"}
    assert {v.path for v in out.decision.violations} == {"README.md", "lib/b.py"}
    assert b"deleted file mode 100644" in out.patch and b"a/src/a.py" in out.patch
    assert repo.state() == before
    if mode == "bwrap":
        assert "repository still there: True" in out.result.log
    else:  # it deleted the worktree's .git file: restored, and reported
        assert out.result.status == "error"


@pytest.mark.parametrize("mode", MODES)
def test_planted_secret_never_reaches_agent_or_log(
    repo: Repo, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = "planted-" + "s3cr3t-value-0123456789"
    model_key = "sk-" + "test-" + "MODELKEY0123456789abcdef"
    monkeypatch.setenv("PLANTED_SECRET_TOKEN", planted)
    monkeypatch.setenv("MODEL_API_KEY", model_key)
    out = repo.run_agent("leak_secret.py", mode=mode, pass_env=("MODEL_API_KEY",))
    text = out.result.log + out.result.rationale + (out.result.error or "")
    assert "PLANTED_SECRET_TOKEN=None" in text  # scrubbed from the agent's environment
    assert planted not in text
    assert model_key not in text  # passed on purpose, printed by the agent, redacted
    assert "MODEL_API_KEY=[REDACTED:MODEL_API_KEY]" in out.result.log


class _Listener:
    """A TCP server on 127.0.0.1 that records what the first client sends."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                self.received = conn.recv(1024)
            return

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.mark.skipif(not HAS_BWRAP, reason="network isolation needs bwrap")
@pytest.mark.parametrize("network", [False, True])
def test_network_is_off_unless_the_template_allows_it(repo: Repo, network: bool) -> None:
    listener = _Listener()
    try:
        out = repo.run_agent(
            "phone_home.py",
            mode="bwrap",
            args=(str(listener.port),),
            sandbox={"network": network},
        )
    finally:
        listener.close()
    assert (listener.received == b"# demo\n") is network
    assert ("sent" in out.result.log) is network


@pytest.mark.parametrize("mode", MODES)
def test_claude_json_output_gives_rationale_usage_and_cost(repo: Repo, mode: str) -> None:
    out = repo.run_agent("fake_claude.py", mode=mode, output="claude-json")
    assert out.result.status == "ok" and out.decision.accepted
    assert out.result.rationale.startswith("Changed src/a.py")
    assert out.result.assumptions == ("Python 3",)
    usage = out.result.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens) == (1200, 340, 800)
    assert usage.cost_usd == pytest.approx(0.0123)
    assert usage.model == "claude-sonnet-4-5"


@pytest.mark.parametrize("mode", MODES)
def test_codex_jsonl_output_gives_rationale_and_tokens_but_no_cost(repo: Repo, mode: str) -> None:
    out = repo.run_agent("fake_codex.py", mode=mode, output="codex-jsonl")
    assert out.result.status == "ok" and out.decision.accepted
    assert out.result.rationale == "Edited."
    usage = out.result.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cached_tokens) == (5000, 250, 4000)
    assert usage.cost_usd is None


@pytest.mark.parametrize("mode", MODES)
def test_sigterm_to_the_attempt_process_stops_the_agent(repo: Repo, mode: str) -> None:
    """The dispatcher stops an attempt with SIGTERM (timeout or Ctrl-C); the agent goes too."""
    code = f"""
import sys
from pathlib import Path
from crewchief.attempts import procs
from crewchief.sandbox.runner import SandboxConfig, WorkerSandbox
procs.stop_children_on_sigterm()
with WorkerSandbox(Path({str(repo.worktree)!r}), SandboxConfig(mode={mode!r})) as box:
    box.run([sys.executable, {str(SCRIPTS / "hang.py")!r}, {repo.tag!r}], timeout_s=60)
"""
    attempt = subprocess.Popen([sys.executable, "-c", code])

    def agents() -> list[int]:  # the attempt's own command line carries the tag too
        return [pid for pid in repo.leftovers() if pid != attempt.pid]

    deadline = time.monotonic() + 10
    while not agents() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # let the launcher exec the agent
    assert agents(), "the agent never started"
    attempt.send_signal(signal.SIGTERM)
    attempt.wait(timeout=10)
    deadline = time.monotonic() + 3
    while agents() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert agents() == []
