"""The model-driven roles through the real orchestrator: the LLM planner's plan, LLM workers in
child processes (a scripted model chosen by model string), the LLM reviewer asking for one
revision, integration and the full suite."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo

from crewchief import config
from crewchief.attempts.executor import LocalExecutor
from crewchief.lifecycle import RunState
from crewchief.llm.planner import LLMPlanner
from crewchief.llm.reviewer import LLMReviewer
from crewchief.llm.spec import WorkerSpec
from crewchief.models.scripted import Output, Reply, script
from crewchief.records import ChangeRequest
from crewchief.run import intake
from crewchief.run.orchestrate import Orchestrator
from repo_helpers import git, make_repo

WORKER = "scripted:crewchief.models.scripted:appender?line=%23%20reviewed"


def approve(messages: list[ModelMessage], info: AgentInfo) -> Reply:
    """Approve the one hunk of the patch under review."""
    path = re.search(r"## (\S+) hunk 1", str(messages[0]))
    assert path is not None
    return Output({"decision": "approve", "hunks": [{"path": path[1], "hunk": 1, "ok": True}]})


def test_plan_work_review_revise_and_integrate(tmp_path: Path) -> None:
    files = {
        ".gitignore": ".crewchief/\n__pycache__/\n",
        "pkg/__init__.py": "",
        "pkg/a.py": '"""A."""\n',
        "pkg/b.py": '"""B."""\n',
        # A stand-in suite: this test is not about the suite's trust.
        "crewchief.toml": (
            f'test_command = "{sys.executable} -c pass"\nworkers = 2\nsuite_probe = false\n'
        ),
    }
    repo = make_repo(tmp_path / "repo", files)
    cfg = config.load(repo)
    tasks: list[dict[str, Any]] = [
        {
            "id": n,
            "title": f"mark {n}",
            "instructions": "Add '# reviewed' on top.",
            "owned_paths": [f"pkg/{n}.py"],
        }
        for n in ("a", "b")
    ]
    planner = LLMPlanner(
        script(Output({"tasks": tasks, "parallel_groups": [["a", "b"]]})),
        WorkerSpec(model=WORKER, max_steps=5),
    )
    plan = intake.make_plan(repo, ChangeRequest(goal="mark modules"), planner, cfg)
    target, base = intake.preflight(repo, cfg)
    ledger, run_id = intake.open_run(
        repo, ChangeRequest(goal="mark modules"), plan, cfg, target, base
    )
    revise = Output({"decision": "revise", "feedback": "Say it again.", "hunks": []})
    summary = Output(
        {
            "summary": "Both modules are marked.",
            "order": [
                {"task": "b", "reason": "b first: nothing reads it"},
                {"task": "a", "reason": "then a"},
            ],
        }
    )
    # The first patch reviewed is sent back once, every other one is approved; then the manager
    # summarizes the change set and proposes the merge order.
    reviewer = LLMReviewer(script(revise, approve, approve, summary), plan=plan)
    state = Orchestrator(repo, ledger, cfg, LocalExecutor(2), reviewer=reviewer).drive(run_id)
    assert state == RunState.AWAITING_APPROVAL
    assert set(ledger.task_states(run_id).values()) == {"verified"}
    attempts = ledger.attempts(run_id)
    assert len(attempts) == 3  # one revision
    revised = [a for a in attempts if a.extra_instruction == "Say it again."]
    assert len(revised) == 1
    result = ledger.result(revised[0].id)
    assert result is not None and result.calls and all(c.role == "worker" for c in result.calls)
    assert "Say it again." in result.transcript[1].content
    assert git(repo, "status", "--porcelain") == ""
    chain = [row.task_id for row in ledger.integration_chain(run_id)]
    assert chain == ["b", "a"]  # the manager's proposed order
    calls = ledger.model_calls(run_id)
    assert {c.role for c in calls} == {"worker", "reviewer", "manager"}
    summaries = [e for e in ledger.event_records(run_id) if e.kind == "manager_summary"]
    assert summaries[0].data["summary"] == "Both modules are marked."
