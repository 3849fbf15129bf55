"""A SIGKILL of crewchief at any of 20 points of a real run (each reached by waiting on a ledger
event): within seconds no worker, check or suite process is left, git and the ledger are sound,
and ``resume`` takes the run to its end. The run killed is the real CLI in a process of its own;
status and resume run in this process (``crewchief_here``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from adversarial.attacker import git_out, integrity, with_tag
from repo_helpers import (
    GIT_ENV,
    PY,
    crewchief_here,
    default_config,
    events_so_far,
    make_repo,
    status_json,
)

#: Starts a setsid process carrying the tag (it would outlive a careless supervisor), then works
#: a little: run by the worker, the fast check and the suite.
SPAWN = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', sys.argv[1]],\n"
    "                 start_new_session=True)\n"
    "time.sleep(0.5)\n"
)
#: (event kind, its n-th occurrence): the moments after which crewchief is killed.
POINTS = [
    ("run_created", 1),
    ("plan_recorded", 1),
    ("task_state", 1),
    ("run_state", 1),
    ("attempt_started", 1),
    ("task_state", 2),
    ("attempt_finished", 1),
    ("check", 1),
    ("check", 2),
    ("check", 3),
    ("task_state", 3),
    ("verdict", 1),
    ("task_state", 4),
    ("run_state", 2),
    ("integrated", 1),
    ("check", 4),
    ("run_state", 3),
    ("task_state", 5),
    ("approval", 1),
    ("merge_intent", 1),
]
#: Backstops only: the waits end as soon as what they wait for happens.
EVENT_DEADLINE_S = 180.0
GONE_DEADLINE_S = 10.0


def _repo(tmp_path: Path, tag: str) -> Path:
    spawn = f"{PY} spawn.py {tag}"
    config = default_config(test_command=spawn, fast_checks=[spawn], workers=1)
    return make_repo(tmp_path / "project", {"mod.py": "VALUE = 1\n", "spawn.py": SPAWN}, config)


def _start(repo: Path, tag: str) -> subprocess.Popen[bytes]:
    command = f"{PY} spawn.py {tag} && echo '# edited' >> {{files}}"
    args = ["run", "--recipe", "command", "--command", command, "--path", "mod.py", "--yes"]
    return subprocess.Popen(
        [sys.executable, "-m", "crewchief", *args],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **GIT_ENV, "KILL9_TAG": tag},
        start_new_session=True,  # the kill below hits crewchief alone, not a process group
    )


def _count(repo: Path, kind: str) -> int:
    """How many ``kind`` events the run has recorded so far (``log --json``; 0 before it has)."""
    return sum(e["kind"] == kind for e in events_so_far(repo))


def _wait_for(repo: Path, kind: str, nth: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + EVENT_DEADLINE_S
    while _count(repo, kind) < nth:
        assert proc.poll() is None, f"the run ended before {kind} #{nth}"
        assert time.monotonic() < deadline, f"no {kind} #{nth}"
        time.sleep(0.01)


def _survivors(tag: str) -> list[int]:
    """Processes of the run: sandboxed ones carry the tag in their command line, the others
    (crewchief's own worker processes) in their environment."""
    found = set(with_tag(tag))
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if f"KILL9_TAG={tag}".encode() in Path(f"/proc/{pid}/environ").read_bytes():
                found.add(int(pid))
        except OSError:
            continue
    return sorted(found)


def _all_gone(tag: str) -> list[int]:
    deadline = time.monotonic() + GONE_DEADLINE_S
    while (left := _survivors(tag)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.mark.parametrize(("kind", "nth"), POINTS, ids=[f"{k}-{n}" for k, n in POINTS])
def test_kill9_leaves_nothing_running_and_resume_finishes(
    tmp_path: Path, kind: str, nth: int
) -> None:
    tag = f"kill9-{uuid.uuid4().hex}"
    repo = _repo(tmp_path, tag)
    proc = _start(repo, tag)
    _wait_for(repo, kind, nth, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _all_gone(tag) == [], "processes outlived a SIGKILL of crewchief"
    fsck = git_out(repo, "fsck", "--full")
    assert fsck.returncode == 0, fsck.stderr
    assert integrity(repo) == "ok"  # the raw file on purpose: sqlite's own check after the kill
    if status_json(repo)["state"] != "merged":
        # (A kill at the last points may land after the merge was recorded: nothing to resume.)
        resumed = crewchief_here(repo, "resume", "--yes")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    status = status_json(repo)
    assert status["state"] == "merged", status
    assert _all_gone(tag) == []
