"""Helpers of the contract tests with the real coding CLIs: install them (cached), configure a
project to drive one against the scripted model server, run crewchief, read what happened.

The CLIs come from scripts/install-agents.sh (pinned versions, a stamp file makes the second run
a no-op); set CREWCHIEF_AGENTS_DIR to choose where they live.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repo_helpers import crewchief, crewchief_here, default_config, git, task_states

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install-agents.sh"
MODEL = "scripted-model"
KEY_VAR = "SCRIPTED_MODEL_KEY"
#: The owned file a scripted edit changes (inside scope) and one outside every task's scope.
GOOD_FILE = "alpha/a.py"
CREEP_FILE = "beta/b.py"
OLD_LINE = "def f(v):"
NEW_LINE = 'def f(v):\n    """Add one to old_api of v."""'


def agents_bin() -> Path:
    """The directory holding the installed CLIs (installing them on first use)."""
    proc = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(proc.stdout.strip().splitlines()[-1])


def configure(project: Path, agent: str, base_url: str, **extra: Any) -> None:
    """``[agents.<agent>]`` with the one model setting, committed (the run needs a clean tree)."""
    table = {"model": MODEL, "base_url": base_url, "api_key_env": KEY_VAR, **extra}
    lines = [f"[agents.{agent}]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    text = default_config(task_timeout_s=240, max_attempts=1) + "\n" + "\n".join(lines) + "\n"
    (project / "crewchief.toml").write_text(text)
    git(project, "add", "-A")
    git(project, "commit", "-qm", f"drive {agent}")


def plan(project: Path, agent: str, task_ids: tuple[str, ...] = ("good", "creep")) -> Path:
    """Tasks named for what the scripted model does in them: ``good`` edits its own file,
    ``creep`` edits a file outside its scope."""
    tasks = [
        {
            "id": tid,
            "title": f"document f ({tid})",
            "instructions": "Add a docstring to f.",
            "owned_paths": [GOOD_FILE if tid == "good" else "gamma/"],
            "backend": f"agent:{agent}",
        }
        for tid in task_ids
    ]
    path = project.parent / f"{agent}-plan.json"
    path.write_text(json.dumps({"goal": "docs", "planner": "hand-written", "tasks": tasks}))
    return path


def target(prompt_text: str) -> str:
    """The file the scripted model edits, read from the task id in crewchief's prompt."""
    return CREEP_FILE if "Task creep" in prompt_text else GOOD_FILE


def old_text(path: str) -> str:
    return OLD_LINE if path == GOOD_FILE else "def g(v):"


def new_text(path: str) -> str:
    return NEW_LINE if path == GOOD_FILE else 'def g(v):\n    """Out of scope."""'


@dataclass(frozen=True)
class Attempt:
    task: str
    status: str
    error: str | None
    duration_s: float
    rationale: str
    assumptions: tuple[str, ...]
    cost_usd: float | None
    model: str | None


def run(project: Path, plan_path: Path, bin_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", KEY_VAR: "sk-scripted-123456"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return crewchief(project, "run", "--plan", str(plan_path), "--yes", timeout=400)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def attempts(project: Path) -> dict[str, Attempt]:
    """Each task's (last) attempt as ``show TASK --json`` shows it."""
    found = {}
    for task in task_states(project):
        shown = crewchief_here(project, "show", task, "--json")
        assert shown.returncode == 0, shown.stderr
        tried = json.loads(shown.stdout)["attempts"]
        if not tried:
            continue
        last = tried[-1]
        data = last["result"] or {}
        usage = data.get("usage") or {}
        found[task] = Attempt(
            task=task,
            status=last["status"],
            error=data.get("error"),
            duration_s=float(data.get("duration_s") or 0.0),
            rationale=data.get("rationale") or "",
            assumptions=tuple(data.get("assumptions") or ()),
            cost_usd=usage.get("cost_usd"),
            model=usage.get("model"),
        )
    return found


def head_message(project: Path) -> str:
    return git(project, "log", "-1", "--format=%B")
