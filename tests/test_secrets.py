"""Secrets never persist: what workers and checks print is redacted before it reaches the ledger."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from repo_helpers import GIT_ENV, PY, default_config, git

SECRET = "s3cr3t-Value-0123456789"


def test_a_secret_printed_by_a_worker_and_a_check_never_reaches_the_ledger(project: Path) -> None:
    (project / "crewchief.toml").write_text(
        default_config(
            fast_checks=[f"{PY} -m compileall -q {{files}}", "echo token=$SERVICE_API_TOKEN"],
            # The sandbox passes a worker nothing of crewchief's environment unless named.
            sandbox_pass_env=["SERVICE_API_TOKEN"],
        )
    )
    git(project, "commit", "-qam", "config")
    plan = project.parent / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "goal": "leak",
                "planner": "hand",
                "tasks": [
                    {
                        "id": "t1",
                        "title": "leaky",
                        "instructions": "x",
                        "owned_paths": ["alpha/a.py"],
                        "backend": "recipe:command",
                        "spec": {
                            "command": "echo the key is $SERVICE_API_TOKEN"
                            " && echo '# x' >> alpha/a.py"
                        },
                    }
                ],
            }
        )
    )
    env = {**os.environ, **GIT_ENV, "SERVICE_API_TOKEN": SECRET}
    proc = subprocess.run(
        [PY, "-m", "crewchief", "run", "--plan", str(plan), "--yes"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stored = b"".join(p.read_bytes() for p in (project / ".crewchief").glob("ledger.db*"))
    assert b"the key is [REDACTED" in stored
    assert SECRET.encode() not in stored


def _held_run(project: Path) -> Path:
    """A plan whose one task appends a GitHub-token-shaped value to alpha/a.py. The command
    spells the prefix in two quoted halves, so the command string itself holds no token."""
    plan = project.parent / "plan.json"
    command = "echo \"TOKEN = 'gh\"\"p_$(printf 'a1B2%.0s' 1 2 3 4 5 6 7 8 9)'\" >> alpha/a.py"
    task = {
        "id": "t1",
        "title": "hardcode a token",
        "instructions": "x",
        "owned_paths": ["alpha/a.py"],
        "backend": "recipe:command",
        "spec": {"command": command},
    }
    plan.write_text(json.dumps({"goal": "leak", "planner": "hand", "tasks": [task]}))
    return plan


def test_a_task_held_for_a_secret_can_be_sent_back_with_an_instruction(project: Path) -> None:
    env = {**os.environ, **GIT_ENV}
    run = [PY, "-m", "crewchief", "run", "--plan", str(_held_run(project)), "--yes"]
    proc = subprocess.run(run, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    events = json.loads(
        subprocess.run(
            [PY, "-m", "crewchief", "log", "--json"], cwd=project, env=env, capture_output=True
        ).stdout
    )
    held = [e["data"] for e in events if e["kind"] == "held_for_person"]
    assert held == [
        {
            "reason": "secret",
            "findings": [{"path": "alpha/a.py", "line": 6, "kind": "github-token"}],
        }
    ]
    back = [PY, "-m", "crewchief", "review", "--send-back", "t1", "--comment", "use os.environ"]
    proc = subprocess.run(back, cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = json.loads(
        subprocess.run(
            [PY, "-m", "crewchief", "status", "--json"], cwd=project, env=env, capture_output=True
        ).stdout
    )
    assert status["state"] == "interrupted"  # open again; nothing drives it until `resume`
    assert [t["state"] for t in status["task_list"]] == ["ready"]
    assert b"a1B2a1B2a1B2" not in b"".join(
        p.read_bytes() for p in (project / ".crewchief").glob("ledger.db*")
    )
