"""Helpers and fixtures for the spine's tests: real git repositories in temp dirs, the real CLI.

The one place that builds a test repository and runs git for the tests: ``git``,
``write_files``, ``init_repo``, ``make_repo`` and ``commit``, all under ``GIT_ENV``'s author."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Person",
    "GIT_AUTHOR_EMAIL": "person@example.com",
    "GIT_COMMITTER_NAME": "Test Person",
    "GIT_COMMITTER_EMAIL": "person@example.com",
}
PY = sys.executable
#: The test projects' suite: their tests need no plugin, and loading every plugin installed in
#: crewchief's environment would triple the start of each of the many suite runs of a test.
TEST_COMMAND = f"PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {PY} -m pytest -q -p no:cacheprovider"

#: A repository's files by path: text (written as UTF-8) or bytes (written as they are).
Files = Mapping[str, str | bytes]


def git(repo: Path, *args: str, strip: bool = True) -> str:
    """Run git in ``repo`` as ``GIT_ENV``'s author; its stdout, stripped unless ``strip=False``
    (``status --porcelain``'s first column may be a space); fail the test on error."""
    proc = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=True,
    )
    return proc.stdout.strip() if strip else proc.stdout


def write_files(root: Path, files: Files) -> None:
    """Write ``files`` below ``root`` (text as UTF-8, bytes as they are)."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def init_repo(path: Path, *, git_config: Mapping[str, str] | None = None) -> Path:
    """An empty git repository at ``path`` on branch main, no commit yet; ``git_config``:
    settings written to its own config (so every git in it, worktrees included, sees them)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "--initial-branch=main")
    for key, value in (git_config or {}).items():
        git(path, "config", key, value)
    return path


def commit(repo: Path, files: Files, message: str = "change") -> str:
    """Write ``files``, commit everything in ``repo``; the new commit id."""
    write_files(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def make_repo(
    path: Path,
    files: Files,
    config: str | None = None,
    *,
    message: str = "initial",
    git_config: Mapping[str, str] | None = None,
) -> Path:
    """A git repo on branch main with ``files`` (and crewchief.toml) in one commit, ``message``;
    ``git_config`` as ``init_repo`` takes it."""
    init_repo(path, git_config=git_config)
    commit(path, files if config is None else {**files, "crewchief.toml": config}, message)
    return path


def command_task(t: dict[str, Any]) -> dict[str, Any]:
    """One ``recipe:command`` task of a hand-written plan from ``{id, owns, command}`` (and an
    optional ``depends_on``): the shape every test plan of shell-command tasks uses."""
    return {
        "id": t["id"],
        "title": f"task {t['id']}",
        "instructions": t["command"],
        "owned_paths": t["owns"],
        "depends_on": t.get("depends_on", []),
        "backend": "recipe:command",
        "spec": {"command": t["command"]},
    }


def write_plan(
    repo: Path,
    tasks: list[dict[str, Any]],
    groups: dict[str, list[str]] | None = None,
    goal: str = "test plan",
) -> Path:
    """A hand-written plan file beside ``repo`` of ``command_task`` tasks (id, owns, command,
    depends_on) and landing groups by name."""
    plan: dict[str, Any] = {
        "goal": goal,
        "planner": "hand-written",
        "tasks": [command_task(t) for t in tasks],
    }
    if groups:
        plan["landing_groups"] = [{"name": n, "tasks": ids} for n, ids in groups.items()]
    path = repo.parent / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def default_config(**fields: Any) -> str:
    """A crewchief.toml running the project's pytest suite; ``fields`` override or add.

    A test that brings its own stand-in suite (``true``, a script) is not about the suite's
    trust: it opts out of the sensitivity probe, as a project would, unless it says otherwise."""
    if fields.get("test_command", TEST_COMMAND) != TEST_COMMAND:
        fields = {"suite_probe": False, **fields}
    values: dict[str, Any] = {
        "test_command": TEST_COMMAND,
        "fast_checks": [f"{PY} -m compileall -q {{files}}"],
        "workers": 2,
        "task_timeout_s": 60,
        **fields,
    }
    return "\n".join(f"{k} = {_toml(v)}" for k, v in values.items()) + "\n"


def _toml(value: Any) -> str:
    """A TOML value: JSON's syntax serves except for tables (inline tables use ``=``)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small Python project: three packages calling ``old_api``, a passing pytest suite."""
    files = {
        "lib/__init__.py": "",
        "lib/api.py": "def old_api(x):\n    return x * 2\n\n\ndef new_api(x, fast=False):\n"
        "    return x * 2\n",
        "alpha/__init__.py": "",
        "alpha/a.py": "from lib import api\n\n\ndef f(v):\n    return api.old_api(v) + 1\n",
        "beta/__init__.py": "",
        "beta/b.py": "from lib import api\n\n\ndef g(v):\n"
        "    return api.old_api(v) + api.old_api(1)\n",
        "gamma/__init__.py": "",
        "gamma/c.py": "from lib import api\n\n\ndef h(v):\n"
        "    return api.old_api(api.old_api(v))\n",
        "tests/test_all.py": "from alpha.a import f\nfrom beta.b import g\n"
        "from gamma.c import h\n\n\n"
        "def test_f():\n    assert f(1) == 3\n\n\ndef test_g():\n"
        "    assert g(2) == 6\n\n\ndef test_h():\n    assert h(1) == 4\n",
    }
    return make_repo(tmp_path / "project", files, default_config())


CODEMOD = [
    "--recipe",
    "codemod",
    "--lang",
    "python",
    "--pattern",
    "api.old_api($X)",
    "--rewrite",
    "api.new_api($X, fast=True)",
]


#: A backstop for one CLI call, far above what any test's run takes on a busy 2-core machine.
CLI_BACKSTOP_S = 600.0


def crewchief(
    repo: Path, *args: str, timeout: float = CLI_BACKSTOP_S, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in ``repo``; output captured as text; ``env`` adds to (or overrides)
    the environment it is given."""
    return subprocess.run(
        [PY, "-m", "crewchief", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **GIT_ENV, "COLUMNS": "160", **(env or {})},
    )


def crewchief_here(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI run in this process (typer's ``CliRunner``) in ``repo``, for a command whose own
    process is not the point of the test: what ``crewchief`` gives (exit code, stdout, stderr
    with ``error: …`` for a crewchief error) without a second of start-up per call.

    A run's worker processes fork from this process's fork server, which keeps the environment
    of the run that started it: a test that gives crewchief an environment of its own (a key,
    a tag) starts the real CLI with ``crewchief`` instead."""
    from typer.testing import CliRunner

    from crewchief.cli import app
    from crewchief.errors import CrewchiefError

    with contextlib.chdir(repo):
        result = CliRunner().invoke(app, list(args), env={**GIT_ENV, "COLUMNS": "160"})
    code, stderr = result.exit_code, result.stderr
    if isinstance(result.exception, CrewchiefError):  # as crewchief.cli.main reports it
        code, stderr = result.exception.exit_code, f"{stderr}error: {result.exception}\n"
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["crewchief", *args], code, result.stdout, stderr)


def status_json(repo: Path, run: str | None = None) -> dict[str, Any]:
    proc = crewchief_here(repo, "status", *([run] if run else []), "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def task_states(repo: Path) -> dict[str, str]:
    return {t["task"]: t["state"] for t in status_json(repo)["task_list"]}


def refs(repo: Path) -> str:
    """Every ref and what it points at, plus HEAD and the index: a fingerprint of user state."""
    return "\n".join(
        [
            git(
                repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads", "refs/tags"
            ),
            git(repo, "rev-parse", "HEAD"),
            git(repo, "status", "--porcelain"),
        ]
    )


def processes_carrying(token: str) -> list[int]:
    """Live processes whose environment holds ``token`` (a test exports it in a worker's
    command, so every child the worker starts, setsid or not, inherits it). Linux /proc."""
    needle = token.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone already, or not ours to read
        if needle in environ and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until_gone(token: str, backstop_s: float = 60.0) -> list[int]:
    """Wait for the processes carrying ``token`` to end; the survivors at the backstop."""
    deadline = time.monotonic() + backstop_s
    while (left := processes_carrying(token)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return crewchief


def log_json(repo: Path, run: str | None = None) -> list[dict[str, Any]]:
    """Every event of ``run`` (the newest run when None) in order, as ``log --json`` prints
    them: ``seq``, ``at``, ``kind``, ``task``, ``attempt`` and ``data`` (docs/json.md)."""
    proc = crewchief_here(repo, "log", *([run] if run else []), "--json")
    assert proc.returncode == 0, proc.stderr
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data


def events_so_far(repo: Path) -> list[dict[str, Any]]:
    """``log_json`` of the run another process is starting or driving: [] until it has
    recorded its run (before that, ``log`` says there is none yet)."""
    proc = crewchief_here(repo, "log", "--json")
    if proc.returncode != 0 and "no crewchief runs in" in proc.stderr:
        return []
    assert proc.returncode == 0, proc.stderr
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data
