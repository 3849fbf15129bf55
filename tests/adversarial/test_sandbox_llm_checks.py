"""The LLM worker's check runs are sandboxed too: a model that writes an attack into its own file
and runs a check that executes it reaches neither the repository's .git nor the model's key."""

from __future__ import annotations

from pathlib import Path

import pytest

from adversarial.attacker import KEY_NAME, KEY_VALUE, attack_lines, attack_script
from crewchief.llm.spec import BACKEND, WorkerSpec, task_spec
from crewchief.llm.worker import LLMWorker
from crewchief.models.scripted import Call, Output, script
from crewchief.records import Task
from llm.llm_repos import add_worktree
from repo_helpers import make_repo

CHECK = "python {files}"


def test_a_check_the_model_runs_cannot_reach_the_repository_or_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_NAME, KEY_VALUE)  # the worker process holds its model's key
    repo = make_repo(tmp_path / "repo", {"attack.py": "VALUE = 1\n"})
    work = add_worktree(repo, repo / ".crewchief" / "worktrees" / "w1", 60)
    task = Task(
        id="attack",
        title="attack",
        instructions="attack",
        owned_paths=("attack.py",),
        checks=(CHECK,),
        backend=BACKEND,
        spec=task_spec(WorkerSpec(model="scripted:unused:unused"), [], []),
    )
    model = script(
        Call(
            "edit_file",
            {"path": "attack.py", "search": "VALUE = 1\n", "replace": attack_script("llm-check")},
        ),
        Call("run_check", {"command": CHECK}),
        Output({"rationale": "done", "checks_run": [CHECK]}),
    )
    result = LLMWorker(model).run(task, work)
    outcomes = dict(attack_lines(str(result.transcript)))
    assert outcomes["hook"].startswith("blocked") and outcomes["api-key"].startswith("blocked")
    assert outcomes["move-main"].startswith("blocked")
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert KEY_VALUE[::-1] not in str(result.transcript) + result.log
