"""The use case every face calls, and the one outcome it ends in: a green run finished
unattended is merged; what needs a person is named and nothing is approved for a host; the CLI
maps the outcome to its exit codes. Real git, real SQLite, the driver in this process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crewchief import usecase
from crewchief.cli import app
from crewchief.cli.runs import report
from crewchief.config import load as load_config
from crewchief.errors import UserError
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.records import ModelWork
from crewchief.run.runlock import run_lock
from repo_helpers import command_task, default_config, git, make_repo, write_plan

A = {"id": "a", "owns": ["a.py"], "command": "echo '# a' >> a.py"}
B = {"id": "b", "owns": ["b.py"], "command": "echo '# b' >> b.py"}
ALPHA = {"id": "a", "owns": ["alpha/a.py"], "command": "echo '# a' >> alpha/a.py"}


def _repo(tmp_path: Path, **fields: object) -> Path:
    config = default_config(test_command="true", **fields)
    return make_repo(tmp_path / "r", {"a.py": "A = 1\n", "b.py": "B = 1\n"}, config)


def _driven(repo: Path) -> usecase.StartedRun:
    """A run of tasks a and b, started through the core and driven up to the human gate."""
    plan = {"goal": "two notes", "planner": "hand", "tasks": [command_task(A), command_task(B)]}
    cfg = load_config(repo)
    started = usecase.start_change(repo, cfg, usecase.Change(plan_json=json.dumps(plan)))
    state = usecase.drive(repo, started.ledger, started.run_id, cfg, started.reviewer)
    assert state == RunState.AWAITING_APPROVAL
    return started


def test_a_green_run_finished_unattended_is_merged(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    started = _driven(repo)
    done = usecase.finish(
        repo, started.ledger, started.run_id, load_config(repo), "me", approve=True
    )
    assert done.merged and done.state == RunState.MERGED
    assert done.landing is not None and done.landing.target == "main"
    assert done.landing.new == git(repo, "rev-parse", "main")
    assert (done.needs_person, done.dropped, done.reason, done.refused) == ({}, (), None, None)


def test_finishing_without_approval_leaves_the_run_at_the_gate(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    started = _driven(repo)
    done = usecase.finish(repo, started.ledger, started.run_id, load_config(repo), "me")
    assert done.state == RunState.AWAITING_APPROVAL and not done.merged and done.landing is None


def test_a_protected_task_is_left_for_a_person_and_named_with_why(tmp_path: Path) -> None:
    repo = _repo(tmp_path, protected_paths=["a.py"])
    started = _driven(repo)
    cfg = load_config(repo)
    done = usecase.finish(repo, started.ledger, started.run_id, cfg, "me", approve=True)
    assert done.state == RunState.AWAITING_APPROVAL and done.landing is None
    assert list(done.needs_person) == ["a"] and done.needs_person["a"]
    assert started.ledger.task_states(started.run_id)["b"] == TaskState.APPROVED


def test_a_host_approves_nothing_while_a_task_needs_a_person(tmp_path: Path) -> None:
    repo = _repo(tmp_path, protected_paths=["a.py"], mcp_may_merge=True)
    started = _driven(repo)
    done = usecase.merge_unattended(repo, started.ledger, started.run_id, load_config(repo), "h")
    assert not done.merged and done.refused is not None and done.refused.startswith("a: ")
    states = started.ledger.task_states(started.run_id)
    assert states == {"a": TaskState.VERIFIED, "b": TaskState.VERIFIED}


def test_a_host_may_not_merge_unless_the_project_lets_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    started = _driven(repo)
    done = usecase.merge_unattended(repo, started.ledger, started.run_id, load_config(repo), "h")
    assert not done.merged and done.refused is not None and "mcp_may_merge" in done.refused
    assert done.state == RunState.AWAITING_APPROVAL


def test_a_host_is_told_when_a_run_is_not_at_the_gate(tmp_path: Path) -> None:
    repo = _repo(tmp_path, mcp_may_merge=True)
    started = _driven(repo)
    cfg = load_config(repo)
    assert usecase.merge_unattended(repo, started.ledger, started.run_id, cfg, "h").merged
    with pytest.raises(UserError, match="is merged, not awaiting approval"):
        usecase.merge_unattended(repo, started.ledger, started.run_id, cfg, "h")


def test_a_run_is_handed_to_one_background_driver_only(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    plan = {"goal": "a note", "planner": "hand", "tasks": [command_task(A)]}
    change = usecase.Change(plan_json=json.dumps(plan))
    started = usecase.start_change(repo, load_config(repo), change)  # planned: resumable
    with run_lock(repo, started.run_id), pytest.raises(UserError, match="being driven"):
        usecase.drive_in_background(repo, started.ledger, started.run_id, "me")
    assert "resume_requested" not in [e.kind for e in started.ledger.event_records(started.run_id)]


def test_a_merged_run_has_nothing_to_resume(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    started = _driven(repo)
    usecase.finish(repo, started.ledger, started.run_id, load_config(repo), "me", approve=True)
    with pytest.raises(UserError, match="nothing to resume"):
        usecase.drive_in_background(repo, started.ledger, started.run_id, "me")


def test_a_models_planning_calls_are_recorded_and_a_given_plan_records_none(
    project: Path,
) -> None:
    models = {
        "manager_model": "scripted:llm_cli_models:manager",
        "worker_model": "scripted:crewchief.models.scripted:appender",
    }
    (project / "crewchief.toml").write_text(default_config(**models))
    git(project, "commit", "-qam", "models")
    cfg = load_config(project)
    planned = usecase.plan_change(project, cfg, usecase.Change(goal="Mark modules as reviewed"))
    assert planned.recorded_run is not None  # a run of its own, holding what planning cost
    ledger = Ledger.for_repo(project)
    assert ledger.run(planned.recorded_run).state is RunState.PLANNED
    calls = ledger.model_calls(planned.recorded_run)
    assert [c.role for c in calls] == ["manager"] and len(calls) == len(planned.plan.work.calls)
    assert "transcript" in [e.kind for e in ledger.event_records(planned.recorded_run)]

    hand = {"goal": "a note", "planner": "hand", "tasks": [command_task(ALPHA)]}
    started = usecase.start_change(project, cfg, usecase.Change(plan_json=json.dumps(hand)))
    assert started.plan.work == ModelWork()
    assert started.ledger.model_calls(started.run_id) == []
    assert "transcript" not in [e.kind for e in started.ledger.event_records(started.run_id)]


def test_run_yes_in_process_merges_and_exits_0(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    plan = write_plan(repo, [A, B])
    result = CliRunner().invoke(app, ["run", "--plan", str(plan), "--yes", "--repo", str(repo)])
    assert result.exit_code == 0, result.output
    assert "merged: main" in result.output
    assert "# a" in (repo / "a.py").read_text() and "# b" in (repo / "b.py").read_text()


@pytest.mark.parametrize(
    ("outcome", "merged_is_success", "code"),
    [
        (usecase.Outcome("r", RunState.MERGED), False, 0),
        (usecase.Outcome("r", RunState.AWAITING_APPROVAL), False, 0),
        (usecase.Outcome("r", RunState.MERGED, dropped=("t",)), False, 1),
        (usecase.Outcome("r", RunState.MERGED, dropped=("t",)), True, 0),
        (usecase.Outcome("r", RunState.INTERRUPTED, paused="run budget reached"), False, 1),
        (usecase.Outcome("r", RunState.INTERRUPTED, reason="the model is down"), False, 1),
        (usecase.Outcome("r", RunState.FAILED), False, 1),
    ],
)
def test_the_cli_maps_each_outcome_to_its_exit_code(
    outcome: usecase.Outcome, merged_is_success: bool, code: int
) -> None:
    assert report(outcome, merged_is_success) == code
