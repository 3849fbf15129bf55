"""Without a usable bubblewrap crewchief refuses sandboxed work (exit 2, nothing changed); the
escape hatch is explicit, logged and shown; a worker past its timeout leaves nothing running."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

from adversarial.attacker import run_cli, with_tag
from repo_helpers import PY, crewchief_here, default_config, git, make_repo, refs

ECHO = ["--recipe", "command", "--command", "echo '# x' >> {files}", "--path", "mod.py"]


def _repo(tmp_path: Path, **config: object) -> Path:
    fields: dict[str, object] = {"test_command": "true", "fast_checks": [], **config}
    return make_repo(tmp_path / "project", {"mod.py": "VALUE = 1\n"}, default_config(**fields))


def _path_without_bwrap(tmp_path: Path) -> str:
    """PATH with every program of the current PATH except bwrap (links in one directory)."""
    bin_dir = tmp_path / "bin-without-bwrap"
    bin_dir.mkdir()
    for entry in reversed(os.environ["PATH"].split(os.pathsep)):
        if not os.path.isdir(entry):
            continue
        for name in os.listdir(entry):
            target = bin_dir / name
            if name != "bwrap" and not target.exists():
                target.symlink_to(os.path.join(entry, name))
    assert shutil.which("bwrap", path=str(bin_dir)) is None
    return str(bin_dir)


def _ledger_runs(repo: Path) -> int:
    """How many runs ``status --all --json`` lists (none when crewchief never ran here)."""
    listed = crewchief_here(repo, "status", "--all", "--json")
    if listed.returncode != 0 and "no crewchief runs in" in listed.stderr:
        return 0
    assert listed.returncode == 0, listed.stderr
    return len(json.loads(listed.stdout))


@pytest.mark.parametrize("how", ["missing-binary-in-config", "path-without-bwrap"])
def test_missing_bubblewrap_is_refused_with_how_to_fix_it(tmp_path: Path, how: str) -> None:
    if how == "missing-binary-in-config":
        repo, env = _repo(tmp_path, bwrap=str(tmp_path / "no-such-bwrap")), {}
    else:
        repo, env = _repo(tmp_path), {"PATH": _path_without_bwrap(tmp_path)}
    before = refs(repo)
    proc = run_cli(repo, "run", *ECHO, "--yes", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "apt install bubblewrap" in proc.stderr and 'sandbox = "off"' in proc.stderr
    assert refs(repo) == before and _ledger_runs(repo) == 0


def test_the_escape_hatch_runs_unsandboxed_only_when_named_and_says_so(tmp_path: Path) -> None:
    repo = _repo(tmp_path, bwrap=str(tmp_path / "no-such-bwrap"), recipe_sandbox={"command": "off"})
    # checks and suite stay sandboxed, so a missing bwrap is still refused ...
    assert run_cli(repo, "run", *ECHO, "--yes").returncode == 2
    # ... until they are opted out too, explicitly
    (repo / "crewchief.toml").write_text(
        default_config(
            test_command="true",
            fast_checks=[],
            sandbox="off",
            recipe_sandbox={"command": "off"},
            bwrap=str(tmp_path / "no-such-bwrap"),
        )
    )
    git(repo, "commit", "-qam", "opt out")
    proc = run_cli(repo, "run", *ECHO, "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = json.loads(run_cli(repo, "log", "--json").stdout)
    off = [e["data"]["unsandboxed"] for e in log if e["kind"] == "sandbox_off"]
    assert off == [["checks and suite", "recipe:command"]]
    assert "WITHOUT a sandbox" in run_cli(repo, "status").stdout
    assert json.loads(run_cli(repo, "status", "--json").stdout)["unsandboxed"] == off[0]


def test_a_sandboxed_run_logs_no_escape_hatch(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    assert run_cli(repo, "run", *ECHO, "--yes").returncode == 0
    status = json.loads(run_cli(repo, "status", "--json").stdout)
    assert status["state"] == "merged" and status["unsandboxed"] == []


def test_a_worker_past_its_timeout_leaves_nothing_that_could_edit(tmp_path: Path) -> None:
    tag = f"late-{uuid.uuid4().hex}"
    editor = "import time\nwhile True:\n    open('mod.py', 'a').write('#')\n    time.sleep(0.05)\n"
    late = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen(['setsid', sys.executable, '-c', {editor!r}, '{tag}'], "
        "start_new_session=True)\n"
        "time.sleep(600)\n"
    )
    repo = make_repo(
        tmp_path / "project",
        {"mod.py": "VALUE = 1\n", "late.py": late},
        default_config(test_command="true", fast_checks=[], task_timeout_s=3),
    )
    before = refs(repo)
    command = ["--recipe", "command", "--command", f"{PY} late.py", "--path", "mod.py"]
    proc = run_cli(repo, "run", *command, "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert with_tag(tag) == []  # nothing is left running that could still edit
    assert refs(repo) == before
    status = json.loads(run_cli(repo, "status", "--json").stdout)
    assert [t["state"] for t in status["task_list"]] == ["failed"]
