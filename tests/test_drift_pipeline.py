"""Signature drift in integration: a task whose code calls a function another landed patch
changed is checked again on the integration result, and re-run there when it no longer passes."""

from __future__ import annotations

import json
from pathlib import Path

from repo_helpers import PY, crewchief_here, default_config, make_repo, status_json, task_states

FILES = {
    "lib/__init__.py": "",
    "lib/api.py": "def scale(x):\n    return x * 2\n",
    "app/__init__.py": "",
    "app/main.py": "from lib import api\n\n\ndef run(v):\n    return api.scale(v)\n",
    "tests/test_app.py": "from app.main import run\n\n\ndef test_run():\n    assert run(2) == 4\n",
}
# The caller adapts to whatever signature it finds, as a worker reading the code would.
ADAPT = (
    "grep -q 'def scale(x, factor)' lib/api.py"
    " && sed -i 's/api.scale(v)/api.scale(v, 1)/' app/main.py"
    " || echo '# checked' >> app/main.py"
)


def test_a_task_broken_by_anothers_signature_change_is_rerun_on_the_new_tip(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "r", FILES, default_config())
    plan = {
        "goal": "drift",
        "planner": "hand",
        "tasks": [
            {
                "id": "api",
                "title": "add a factor",
                "instructions": "x",
                "owned_paths": ["lib/api.py"],
                "backend": "recipe:command",
                "spec": {
                    "command": (
                        "sed -i 's/def scale(x):/def scale(x, factor):/;"
                        " s/x \\* 2/x * 2 * factor/' lib/api.py"
                    )
                },
            },
            {
                "id": "caller",
                "title": "keep the caller right",
                "instructions": "x",
                "owned_paths": ["app/main.py"],
                "backend": "recipe:command",
                "checks": [f"{PY} -c 'from app.main import run; assert run(2) == 4'"],
                "spec": {"command": ADAPT},
            },
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    proc = crewchief_here(repo, "run", "--plan", str(path), "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert task_states(repo) == {"api": "merged", "caller": "merged"}
    assert "api.scale(v, 1)" in (repo / "app/main.py").read_text()
    attempts = {t["task"]: t["attempts"] for t in status_json(repo)["task_list"]}
    assert attempts == {"api": 1, "caller": 2}
    log = json.loads(crewchief_here(repo, "log", "--json").stdout)
    rechecks = [e for e in log if e["kind"] == "check" and "re-verify" in e["data"]["name"]]
    failed = [e for e in rechecks if not e["data"]["passed"]]
    assert len(failed) == 1 and "assert run(2) == 4" in failed[0]["data"]["name"]
    assert "api changed lib/api.py::scale" in failed[0]["data"]["name"]
