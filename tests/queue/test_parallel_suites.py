"""``queue_suites``: the merge queue tests more than one batch at once, each on the tip of the
one before it, through the real CLI and a real pytest suite.

The suite holds on every tree that carries a task's edit until the test creates a marker, and
while it holds, a process tagged for the test is alive: the test counts the suites under way
from the process table, never from timing. A later task waits for its own marker, which the
test creates once the first batch is under test, so the second batch arrives behind it."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from queue_runs import (
    DEADLINE_S,
    events,
    finish,
    six_modules,
    start_run,
    wait_for_marker,
    wait_until,
    write_plan,
)

from adversarial.attacker import with_tag
from repo_helpers import PY, git, status_json, task_states

API = "def old_api(x):\n    return x * 2\n"
#: Holds while the tree carries a task's edit ("# t" lines) and the go marker is missing,
#: with a tagged child alive meanwhile; then runs the project's pytest suite.
SUITE = """import pathlib, subprocess, sys
tag, go = sys.argv[1], sys.argv[2]
edited = any("# t" in p.read_text() for p in pathlib.Path(".").glob("m*/mod.py"))
if edited:
    wait = "import os, sys, time\\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)"
    subprocess.run([sys.executable, "-c", wait, go, tag + "-holding"], check=True)
suite = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
sys.exit(subprocess.run(suite).returncode)
"""


def _project(tmp_path: Path, signal_dir: Path, tag: str, suites: int) -> Path:
    repo = six_modules(tmp_path, API)
    (repo / "suite.py").write_text(SUITE)
    go = signal_dir / "go"
    config = (repo / "crewchief.toml").read_text().splitlines()
    config = [line for line in config if not line.startswith(("test_command", "suite_probe"))]
    config += [
        f'test_command = "{PY} suite.py {tag} {go}"',
        "suite_probe = false",  # the stand-in suite holds; the base check still runs
        f"queue_suites = {suites}",
    ]
    (repo / "crewchief.toml").write_text("\n".join(config) + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a suite that holds")
    return repo


def _holding(tag: str, count: int, proc: subprocess.Popen[str]) -> None:
    """Until ``count`` suites hold at once (the backstop fails the test)."""
    deadline = time.monotonic() + DEADLINE_S
    while len(with_tag(f"{tag}-holding")) < count:
        assert proc.poll() is None, "the run ended first"
        assert time.monotonic() < deadline, f"never {count} suites under way at once"
        time.sleep(0.05)


def _tasks(signal_dir: Path, first: str) -> list[dict[str, object]]:
    later = f"{wait_for_marker(signal_dir / 'second')}; echo '# t2' >> m2/mod.py"
    return [
        {"id": "t1", "owns": ["m1/mod.py"], "command": first},
        {"id": "t2", "owns": ["m2/mod.py"], "command": later},
    ]


def test_two_batches_are_under_test_at_once_and_both_land(tmp_path: Path, signal_dir: Path) -> None:
    tag = f"qs-{uuid.uuid4().hex}"
    repo = _project(tmp_path, signal_dir, tag, suites=2)
    plan = write_plan(repo, _tasks(signal_dir, "echo '# t1' >> m1/mod.py"))
    proc = start_run(repo, "--plan", str(plan), "--yes")
    _holding(tag, 1, proc)  # t1's batch is under test
    (signal_dir / "second").touch()
    _holding(tag, 2, proc)  # t2's batch, on t1's tip, before t1's is known green
    (signal_dir / "go").touch()
    code, output = finish(proc)
    assert code == 0, output
    assert task_states(repo) == {"t1": "merged", "t2": "merged"}
    assert status_json(repo)["state"] == "merged"


def test_a_red_batch_voids_the_one_tested_on_top_of_it_which_is_rebuilt(
    tmp_path: Path, signal_dir: Path
) -> None:
    tag = f"qs-{uuid.uuid4().hex}"
    repo = _project(tmp_path, signal_dir, tag, suites=2)
    wrong = "printf '# t1\\ndef f(v):\\n    return 0\\n' >> m1/mod.py"  # m1's test fails
    plan = write_plan(repo, _tasks(signal_dir, wrong))
    proc = start_run(repo, "--plan", str(plan), "--yes")
    _holding(tag, 1, proc)
    (signal_dir / "second").touch()
    _holding(tag, 2, proc)
    (signal_dir / "go").touch()
    code, output = finish(proc)
    assert code == 1, output  # t1 did not make it
    assert task_states(repo) == {"t1": "rejected", "t2": "merged"}
    tree = git(repo, "show", "main:m1/mod.py")
    assert "return 0" not in tree and "# t2" in git(repo, "show", "main:m2/mod.py")
    queued = [e["data"].get("tasks") for e in events(repo) if e["kind"] == "queued"]
    assert queued.count(["t2"]) == 2, queued  # queued on t1's tip, then again on the green


def test_by_default_one_batch_at_a_time(tmp_path: Path, signal_dir: Path) -> None:
    """The default holds the second batch behind the first: once t2 has queued behind it,
    still only one suite is under way."""
    tag = f"qs-{uuid.uuid4().hex}"
    repo = _project(tmp_path, signal_dir, tag, suites=1)
    plan = write_plan(repo, _tasks(signal_dir, "echo '# t1' >> m1/mod.py"))
    proc = start_run(repo, "--plan", str(plan), "--yes")
    _holding(tag, 1, proc)
    (signal_dir / "second").touch()
    wait_until(repo, proc, lambda ev: _queued(ev, "t2"))
    assert len(with_tag(f"{tag}-holding")) == 1
    (signal_dir / "go").touch()
    code, output = finish(proc)
    assert code == 0, output
    assert task_states(repo) == {"t1": "merged", "t2": "merged"}


def _queued(seen: list[dict[str, Any]], task: str) -> bool:
    return any(e["kind"] == "queued" and e["data"] == {**e["data"], "tasks": [task]} for e in seen)
