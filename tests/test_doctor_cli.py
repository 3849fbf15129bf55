"""`crewchief doctor`: the repository and the machine, and the seed's "when to hold off"."""

from __future__ import annotations

import json
from pathlib import Path

from repo_helpers import crewchief, default_config, make_repo


def test_doctor_on_a_healthy_project_is_ready(project: Path) -> None:
    proc = crewchief(project, "doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["suite"]["passed"] is True and report["hold_off"] == []
    assert report["git_version"]


def test_doctor_without_tests_recommends_a_single_agent_with_review(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": "print(1)\n"}, default_config())
    proc = crewchief(repo, "doctor", "--no-tests")
    assert proc.returncode == 0
    assert "no test files" in proc.stdout
    assert "single" in proc.stdout.lower()
