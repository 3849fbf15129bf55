"""Helpers for the merge-queue tests: a six-module project, plan files with landing groups,
a run in the background, and its events (``log --json``) in their recorded order."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import repo_helpers
from repo_helpers import GIT_ENV, default_config, events_so_far, log_json, make_repo

MODULES = 6
#: Backstop only: every wait below ends on a run event, long before this on any machine.
DEADLINE_S = 240.0


def six_modules(tmp_path: Path, api: str, workers: int = 2) -> Path:
    """``lib/api.py`` = ``api``; m1..m6 each call ``api.old_api`` (m6 does not: it adds 6);
    tests/test_mods.py checks every module's result."""
    files = {"lib/__init__.py": "", "lib/api.py": api, "tests/test_mods.py": ""}
    tests = []
    for i in range(1, MODULES + 1):
        body = f"    return api.old_api(v) + {i}\n" if i < MODULES else f"    return v + {i}\n"
        files[f"m{i}/__init__.py"] = ""
        files[f"m{i}/mod.py"] = f"from lib import api\n\n\ndef f(v):\n{body}"
        want = 2 + i if i < MODULES else 1 + i
        tests.append(f"def test_m{i}():\n    from m{i}.mod import f\n\n    assert f(1) == {want}\n")
    files["tests/test_mods.py"] = "\n\n".join(tests)
    # The slow tasks wait for the test's marker: their timeout is only a backstop.
    config = default_config(workers=workers, task_timeout_s=DEADLINE_S * 2)
    return make_repo(tmp_path / "project", files, config)


def write_plan(
    repo: Path, tasks: list[dict[str, Any]], groups: dict[str, list[str]] | None = None
) -> Path:
    """A plan file of ``command`` tasks (id, owns, command) and landing groups by name."""
    return repo_helpers.write_plan(repo, tasks, groups, goal="queue test")


def wait_for_marker(marker: Path) -> str:
    """A shell command that waits until the test creates ``marker`` (no timing involved)."""
    return f"while [ ! -e {marker} ]; do sleep 0.05; done"


def start_run(repo: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crewchief", "run", *args],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **GIT_ENV},
        text=True,
    )


def events(repo: Path) -> list[dict[str, Any]]:
    """Every event of the run so far, in order (``log --json``): seq, kind, task, attempt, data."""
    return events_so_far(repo)


def wait_until(
    repo: Path, proc: subprocess.Popen[str], found: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The events once ``found`` holds for them; fails if the run ended or the backstop hit."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        seen = events(repo)
        if found(seen):
            return seen
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"run ended first ({proc.returncode}):\n{out}\n{err}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("backstop deadline passed")


def first(seen: list[dict[str, Any]], event: str, /, **match: Any) -> int:
    """Sequence number of the first event of kind ``event`` whose task/data match."""
    for e in seen:
        if e["kind"] != event:
            continue
        if all(e["task"] == v if k == "task" else e["data"].get(k) == v for k, v in match.items()):
            return int(e["seq"])
    raise AssertionError(f"no {event} event with {match}")


def integrated_with(seen: list[dict[str, Any]], task_id: str) -> bool:
    return any(e["kind"] == "integrated" and task_id in e["data"]["tasks"] for e in seen)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=DEADLINE_S)
    return proc.returncode, out + err


def suite_runs(repo: Path) -> list[tuple[str, bool]]:
    """(commit, passed) of every full-suite run, in order (the run's ``check`` events)."""
    checks = [e["data"] for e in log_json(repo) if e["kind"] == "check"]
    return [(c["commit"], c["passed"]) for c in checks if c["kind"] == "suite"]
