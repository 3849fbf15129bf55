"""Read models: what people see of a run is said in words, fits the terminal without cutting a
thing, and says whether anyone drives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from crewchief.cli import render
from crewchief.ledger import views
from crewchief.ledger.views import TaskRow, describe_request
from crewchief.lifecycle import RunState, TaskState
from crewchief.records import ChangeRequest
from crewchief.run.runlock import is_driven, run_lock
from ledger_runs import crewchief_at, recorded_run, task
from repo_helpers import make_repo

LONG_ID = "accounts-profile-migration-task"
LONG_PATH = "src/accounts/profiles/settings_loader_for_every_region.py"
FAILURE = f"the fast check failed: ImportError in {LONG_PATH} while loading the regional settings"


def test_a_recipe_request_reads_as_the_recipe_and_its_arguments() -> None:
    request = ChangeRequest(
        goal='codemod: {"lang": "python"}',
        recipe="codemod",
        recipe_args={"lang": "python", "pattern": "f($A)", "paths": ["src"]},
    )
    assert describe_request(request) == 'codemod lang=python pattern=f($A) paths=["src"]'


def test_a_goal_reads_as_written() -> None:
    assert describe_request(ChangeRequest(goal="Add a CSV export")) == "Add a CSV export"


def test_a_run_is_driven_only_while_its_lock_is_held(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    assert not is_driven(repo, "r1")
    with run_lock(repo, "r1"):
        assert is_driven(repo, "r1")
    assert not is_driven(repo, "r1")


def test_a_running_run_whose_driver_died_shows_as_interrupted(tmp_path: Path) -> None:
    repo, ledger, run_id = recorded_run(tmp_path / "repo", [task("t1", "a.py")])
    ledger.set_run_state(run_id, RunState.RUNNING)
    with run_lock(repo, run_id):  # a live driver
        assert views.run_summary(ledger, run_id).state == RunState.RUNNING
        assert views.live_state(ledger, run_id).state == RunState.RUNNING
    assert views.run_summary(ledger, run_id).state == RunState.INTERRUPTED
    assert views.live_state(ledger, run_id).state == RunState.INTERRUPTED  # the page agrees
    assert ledger.run(run_id).state == RunState.RUNNING  # the ledger is not rewritten


def _row(**changes: object) -> TaskRow:
    fields: dict[str, object] = {
        "task": LONG_ID,
        "title": f"Rewrite every call in {LONG_PATH} to the cached API",
        "state": TaskState.CONFLICTED,
        "risk": "low",
        "owned": [LONG_PATH],
        "depends_on": [],
        "group": None,
        "attempts": 2,
        "backend": "llm:worker",
        "checks": [],
        "verdict": "revise",
        "reasons": [],
        "seconds": 12.5,
        "reason": "",
    }
    return TaskRow.model_validate({**fields, **changes})


@pytest.mark.parametrize("width", [40, 80, 160])
def test_tables_never_cut_ids_states_or_paths_whatever_the_width(width: int) -> None:
    console = Console(width=width, record=True)
    console.print(render.task_table([_row()]))
    text = console.export_text()
    assert "…" not in text
    lines = text.splitlines()
    assert any(LONG_ID in line for line in lines)
    assert any("conflicted" in line for line in lines)
    assert LONG_PATH in "".join(line.strip(" │") for line in lines)  # wrapped at most, never cut


def _failed_run(tmp_path: Path) -> tuple[Path, str]:
    request = ChangeRequest(
        goal="codemod: {}",
        recipe="codemod",
        recipe_args={"lang": "python", "pattern": "users.fetch_user($UID)"},
    )
    tasks = [task(LONG_ID, LONG_PATH, title="Move the settings loader to the cached API")]
    repo, ledger, run_id = recorded_run(tmp_path / "repo", tasks, request)
    for state in (TaskState.READY, TaskState.RUNNING):
        ledger.set_task_state(run_id, LONG_ID, state)
    ledger.set_task_state(run_id, LONG_ID, TaskState.FAILED, reason=FAILURE)
    ledger.close()
    return repo, run_id


def test_status_at_80_columns_shows_whole_ids_states_paths_and_each_failure_reason(
    tmp_path: Path,
) -> None:
    repo, run_id = _failed_run(tmp_path)
    shown = crewchief_at(repo, 80, "status")
    lines = shown.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in shown
    assert any(run_id in line for line in lines)
    assert any(LONG_ID in line and "failed" in line for line in lines)
    joined = " ".join(line.strip(" │") for line in lines)
    assert f"{LONG_ID}: failed: {FAILURE}" in joined  # the reason, in status itself
    assert "codemod lang=python pattern=users.fetch_user($UID)" in joined  # not raw JSON
    assert '{"lang"' not in shown


def test_status_json_carries_each_tasks_failure_reason(tmp_path: Path) -> None:
    repo, run_id = _failed_run(tmp_path)
    data = json.loads(crewchief_at(repo, 80, "status", "--json"))
    assert data["run"] == run_id
    assert data["goal"] == "codemod lang=python pattern=users.fetch_user($UID)"
    [row] = data["task_list"]
    assert (row["task"], row["state"], row["reason"]) == (LONG_ID, "failed", FAILURE)
