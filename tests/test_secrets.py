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
            fast_checks=[f"{PY} -m compileall -q {{files}}", "echo token=$SERVICE_API_TOKEN"]
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
