"""``crewchief demo --feature`` end to end: a scripted manager plans a feature across layers,
scripted LLM workers edit, the reviewer sends one patch back, the revision lands, in dependency
order; the output says the models are scripted and ends with the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crewchief.models.feature_script import FEEDBACK, ORDER, REVISED_TASK, TASKS
from repo_helpers import crewchief, crewchief_here, git, status_json


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("feature") / "repo"
    # The real CLI: this run's LLM workers fork from a server that preloads pydantic-ai, which
    # one started in this process by an earlier recipe run would not have.
    proc = crewchief(Path.cwd(), "demo", "--feature", "--dir", str(root), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, proc.stdout


def events(root: Path) -> list[dict[str, Any]]:
    proc = crewchief_here(root, "log", "--json")
    assert proc.returncode == 0, proc.stderr
    found: list[dict[str, Any]] = json.loads(proc.stdout)
    return found


def test_the_output_says_the_models_are_scripted_and_ends_with_the_report(
    demo: tuple[Path, str],
) -> None:
    _, output = demo
    assert output.startswith("SCRIPTED MODELS")
    for section in (
        "## Plan",
        "## Task client:",
        "## Full suite",
        "## Merge order",
        "## Provenance",
    ):
        assert section in output
    assert "**revise** by llm:scripted" in output


def test_every_layer_is_merged_and_the_suite_is_green(demo: tuple[Path, str]) -> None:
    root, _ = demo
    status = status_json(root)
    assert status["state"] == "merged" and status["suite_passed"] is True
    assert {t["task"]: t["state"] for t in status["task_list"]} == {
        t["id"]: "merged" for t in TASKS
    }
    client = git(root, "show", "main:shop/client.py")
    assert "order['currency']" in client
    assert "format_total(order)" in git(root, "show", "main:shop/app.py")
    assert git(root, "show", "main:tests/test_currency.py").startswith("from shop.handlers")


def test_the_reviewer_sent_the_client_back_and_its_revision_was_approved(
    demo: tuple[Path, str],
) -> None:
    root, _ = demo
    verdicts = [
        (e["attempt"].rsplit(".", 2)[-2:], e["data"]["decision"])
        for e in events(root)
        if e["kind"] == "verdict" and e["task"] == REVISED_TASK
    ]
    assert verdicts == [([REVISED_TASK, "1"], "revise"), ([REVISED_TASK, "2"], "approve")]
    shown = crewchief_here(root, "show", REVISED_TASK, "--json")
    assert shown.returncode == 0, shown.stderr
    attempts = json.loads(shown.stdout)["attempts"]
    assert [a["extra_instruction"] for a in attempts] == [None, FEEDBACK]


def test_tasks_started_only_after_their_dependencies_were_verified(
    demo: tuple[Path, str],
) -> None:
    root, _ = demo
    log = events(root)
    first_start = {}
    verified = {}
    for e in log:
        if e["kind"] == "attempt_started" and e["task"] not in first_start:
            first_start[e["task"]] = e["seq"]
        if e["kind"] == "task_state" and e["data"].get("to") == "verified":
            verified.setdefault(e["task"], e["seq"])
    for task in TASKS:
        for dep in task["depends_on"]:
            assert verified[dep] < first_start[task["id"]], (task["id"], dep)
    order = [m["task"] for m in status_json(root)["merge_order"]]
    assert order == [t for t, _ in ORDER]
