"""The manager and workers through the real CLI: plan-only, plan and run, cost and transcripts,
budgets that pause a run, and a missing key refused before any work. Scripted models only."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from repo_helpers import GIT_ENV, PY, default_config, git, status_json, task_states

TESTS = Path(__file__).parent
MANAGER = "scripted:llm_cli_models:manager"
REVIEWER = "scripted:llm_cli_models:reviewer"
WORKER = "scripted:crewchief.models.scripted:appender?line=%23%20reviewed"
PRICES = {m: {"input": 100.0, "output": 400.0} for m in (MANAGER, REVIEWER, WORKER)}


def configure(project: Path, **extra: Any) -> None:
    (project / "crewchief.toml").write_text(
        default_config(manager_model=MANAGER, reviewer_model=REVIEWER, worker_model=WORKER, **extra)
    )
    git(project, "commit", "-qam", "models")


def cc(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [PY, "-m", "crewchief", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **GIT_ENV, "PYTHONPATH": path, "COLUMNS": "160", **(env or {})},
    )


def test_plan_only_prints_the_plan_and_writes_an_editable_file(project: Path) -> None:
    configure(project)
    proc = cc(
        project,
        "plan",
        "Mark modules as reviewed",
        "--focus",
        "alpha",
        "--out",
        str(project.parent / "p.json"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "open question: gamma too?" in proc.stdout and "risk: comments only" in proc.stdout
    plan = json.loads((project.parent / "p.json").read_text())
    assert [t["backend"] for t in plan["tasks"]] == ["llm:worker", "llm:worker"]
    assert status_json(project)["state"] == "planned"
    assert git(project, "worktree", "list").count("\n") == 0  # no worker ran


def test_goal_to_merge_with_manager_review_cost_and_transcripts(project: Path) -> None:
    configure(project, prices=PRICES)
    proc = cc(project, "run", "Mark modules as reviewed", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert task_states(project) == {"t1": "merged", "t2": "merged"}
    assert (project / "alpha/a.py").read_text().startswith("# reviewed\n")
    status = status_json(project)
    assert [m["task"] for m in status["merge_order"]] == ["t2", "t1"]  # the manager's order
    cost = status["cost"]
    assert set(cost["by_role"]) == {"manager", "worker", "reviewer"}
    assert cost["total_usd"] > 0 and set(cost["by_task"]) >= {"t1", "t2"}
    shown = cc(project, "show", "t1")
    assert shown.returncode == 0
    assert "[tool_call read_file]" in shown.stdout and "reviewer" in shown.stdout
    log = git(project, "log", "-1", "--format=%(trailers:only,unfold)", "main")
    assert f"Crewchief-Model: {WORKER}" in log or "Crewchief-Model: scripted" in log


def test_a_run_budget_pauses_the_run_and_a_higher_one_resumes_it(project: Path) -> None:
    configure(project, prices=PRICES, workers=1)
    proc = cc(project, "run", "Mark modules as reviewed", "--run-budget", "0.000001")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "paused: run budget" in proc.stdout
    assert status_json(project)["state"] == "interrupted"
    resumed = cc(project, "resume", "--run-budget", "100", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert task_states(project) == {"t1": "merged", "t2": "merged"}


def test_a_missing_key_is_one_clear_error_before_any_work(project: Path) -> None:
    configure(project)
    (project / "crewchief.toml").write_text(
        default_config(manager_model="anthropic:claude-sonnet-4-5", worker_model=WORKER)
    )
    git(project, "commit", "-qam", "real model")
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    proc = subprocess.run(
        [PY, "-m", "crewchief", "run", "Do it"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**env, **GIT_ENV},
        timeout=60,
    )
    assert proc.returncode == 2
    assert "ANTHROPIC_API_KEY" in proc.stderr
    assert not (project / ".crewchief" / "ledger.db").exists()


def test_the_test_suite_refuses_real_model_requests_in_every_process(project: Path) -> None:
    (project / "crewchief.toml").write_text(
        default_config(manager_model="openai:gpt-4o", worker_model=WORKER)
    )
    git(project, "commit", "-qam", "a real provider")
    proc = cc(project, "plan", "Do it", env={"OPENAI_API_KEY": "sk-test-not-a-real-key"})
    assert proc.returncode != 0
    assert "ALLOW_MODEL_REQUESTS" in proc.stdout + proc.stderr
