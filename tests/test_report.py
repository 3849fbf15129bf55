"""``crewchief report`` and ``export`` on a finished, merged run of scripted models: every section
present, the numbers equal to ``status --json``'s, the exported branch holding the integration
commits themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from repo_helpers import default_config, git, make_repo, status_json
from test_llm_cli import MANAGER, PRICES, REVIEWER, WORKER, cc

SECTIONS = [
    "## Plan",
    "## Task t1: mark alpha",
    "## Task t2: mark beta",
    "## Full suite",
    "## Merge order",
    "## Provenance",
]


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose run of two model-planned tasks was reviewed and merged."""
    files = {
        "alpha/__init__.py": "",
        "alpha/a.py": "def f(v):\n    return v + 1\n",
        "beta/__init__.py": "",
        "beta/b.py": "def g(v):\n    return v * 2\n",
        "tests/test_ab.py": "from alpha.a import f\nfrom beta.b import g\n\n\n"
        "def test_ab():\n    assert f(1) == 2 and g(2) == 4\n",
    }
    config = default_config(
        manager_model=MANAGER, reviewer_model=REVIEWER, worker_model=WORKER, prices=PRICES
    )
    repo = make_repo(tmp_path_factory.mktemp("report") / "repo", files, config)
    proc = cc(repo, "run", "Mark modules as reviewed", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo


def report_json(repo: Path) -> dict[str, Any]:
    proc = cc(repo, "report", "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_the_markdown_report_has_every_section(merged: Path) -> None:
    proc = cc(merged, "report")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("# Mark modules as reviewed\n")
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "Mark the module as reviewed." in text  # the instruction
    assert "Worker's rationale: added '# reviewed'" in text
    assert "**approve** by" in text and "**green** on `" in text
    assert "1. t2 `" in text and ": beta first" in text  # the manager's order and reason


def test_the_reports_numbers_are_the_ones_status_shows(merged: Path) -> None:
    report, status = report_json(merged), status_json(merged)
    assert report["cost"] == status["cost"]
    assert report["run"]["integration"] == status["integration"]
    for task in report["tasks"]:
        assert task["cost_usd"] == status["cost"]["by_task"][task["task"]]
        assert task["tokens"]["input"] > 0
    total_in = sum(t["tokens"]["input"] for t in report["tasks"])
    assert total_in <= status["cost"]["tokens"]["input"]  # the manager's calls belong to no task
    assert [m["task"] for m in report["merge_order"]] == [m["task"] for m in status["merge_order"]]
    assert report["suite"]["commit"] == status["integration"] and report["suite"]["passed"]


def test_the_report_traces_each_commit_to_its_task_worker_model_and_instruction(
    merged: Path,
) -> None:
    report = report_json(merged)
    rows = {p["task"]: p for p in report["provenance"]}
    assert set(rows) == {"t1", "t2"}
    digests = {t["id"]: t["instruction_digest"] for t in report["plan"]["tasks"]}
    for task_id, row in rows.items():
        assert row["source"] == "git" and row["model"] == WORKER
        assert row["instruction"] == f"sha256:{digests[task_id]}"
        checks = next(t for t in report["tasks"] if t["task"] == task_id)["checks"]
        assert [c["kind"] for c in checks] == ["scope", "apply", "fast"]


def test_export_pushes_the_integration_commits_to_a_remote_branch(
    merged: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(merged, "remote", "add", "team", str(remote))
    proc = cc(merged, "export", "--branch", "crewchief/reviewed", "--push", "team")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    status = status_json(merged)
    pushed = git(remote, "rev-list", "--reverse", f"{status['base']}..crewchief/reviewed")
    assert pushed.split() == [m["commit"] for m in status["merge_order"]]


def test_export_refuses_a_branch_that_points_elsewhere(merged: Path) -> None:
    git(merged, "branch", "taken", status_json(merged)["base"])
    proc = cc(merged, "export", "--branch", "taken")
    assert proc.returncode == 2
    assert "branch taken exists at" in proc.stderr
    assert git(merged, "rev-parse", "taken") == status_json(merged)["base"]
