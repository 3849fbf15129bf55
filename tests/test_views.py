"""Read models: what people see of a run is said in words, and says whether anyone drives it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from crewchief.cli import render
from crewchief.ledger.views import describe_request
from crewchief.records import ChangeRequest
from crewchief.run.runlock import is_driven, run_lock
from repo_helpers import make_repo


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


@pytest.mark.parametrize("width", [40, 80, 160])
def test_tables_never_cut_ids_states_or_paths_whatever_the_width(width: int) -> None:
    long_id = "accounts-profile-migration-task"
    path = "src/accounts/profiles/settings_loader.py"
    rows = [
        {
            "task": long_id,
            "state": "conflicted",
            "attempts": 2,
            "checks": [],
            "verdict": "revise",
            "seconds": 12.5,
            "title": f"Rewrite every call in {path} to the cached API",
        }
    ]
    console = Console(width=width, record=True)
    console.print(render.task_table(rows))
    text = console.export_text()
    assert "…" not in text
    lines = text.splitlines()
    assert any(long_id in line for line in lines)
    assert any("conflicted" in line for line in lines)
    assert path in "".join(line.strip(" │") for line in lines)  # wrapped at most, never cut
