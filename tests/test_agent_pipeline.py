"""External coding CLIs as workers, end to end: the plan, the policy gate and the merge stay in
charge of what a (scripted, real-subprocess) agent does."""

from __future__ import annotations

import json
from pathlib import Path

from repo_helpers import PY, crewchief_here, default_config, git, status_json, task_states

SCRIPTS = Path(__file__).parent / "agents" / "scripts"


def _configure(project: Path) -> None:
    agent = json.dumps([PY, str(SCRIPTS / "edit_as_told.py"), "stdin"])
    (project / "crewchief.toml").write_text(
        default_config() + f'\n[agents.scripted]\ncommand = {agent}\nprompt_via = "stdin"\n'
    )
    git(project, "commit", "-qam", "configure the scripted agent")


def _plan(project: Path, tasks: list[tuple[str, str, str]]) -> Path:
    plan = {
        "goal": "agents",
        "planner": "hand-written",
        "tasks": [
            {
                "id": tid,
                "title": f"agent task {tid}",
                "instructions": f"@write {path} {text}",
                "owned_paths": [owned],
                "backend": "agent:scripted",
            }
            for tid, owned, (path, text) in ((t[0], t[1], t[2].split(" ", 1)) for t in tasks)
        ],
    }
    path = project.parent / "agent-plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_an_agent_edit_inside_its_scope_merges_and_one_outside_is_rejected(project: Path) -> None:
    _configure(project)
    plan = _plan(
        project,
        [
            ("good", "alpha/extra.py", "alpha/extra.py VALUE = 42"),
            ("creep", "beta/b.py", "lib/api.py OLD = 1"),
        ],
    )
    proc = crewchief_here(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert task_states(project) == {"good": "merged", "creep": "rejected"}
    assert (project / "alpha/extra.py").read_text() == "VALUE = 42\n"
    assert "OLD" not in (project / "lib/api.py").read_text()
    log = json.loads(crewchief_here(project, "log", "--json").stdout)
    verdicts = [e["data"] for e in log if e["kind"] == "verdict" and e["task"] == "creep"]
    assert "scope" in verdicts[0]["reasons"][0]
    cost = status_json(project)["cost"]  # the agent reports no usage: unknown, never free
    assert (cost["calls"], cost["unknown_calls"], cost["total_usd"]) == (2, 2, None)
