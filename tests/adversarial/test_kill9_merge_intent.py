"""The window between moving the target branch and recording the merge: the intent is recorded
first, and ``status``, ``resume`` and ``merge`` settle an intent a kill left open. The crash is
reproduced by doing exactly what ``land`` does up to the kill: record the intent (and, for the
second case, move the branch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adversarial.attacker import run_cli
from crewchief.ledger.store import Ledger
from repo_helpers import default_config, git, make_repo

ECHO = ["--recipe", "command", "--command", "echo '# x' >> {files}", "--path", "mod.py"]


@pytest.fixture
def awaiting(tmp_path: Path) -> tuple[Path, str]:
    """A run at the human gate, its task approved: what ``merge`` starts from."""
    config = default_config(test_command="true", fast_checks=[])
    repo = make_repo(tmp_path / "project", {"mod.py": "VALUE = 1\n"}, config)
    assert run_cli(repo, "run", *ECHO).returncode == 0
    run_id = json.loads(run_cli(repo, "status", "--json").stdout)["run"]
    assert run_cli(repo, "review", run_id, "--approve-all").returncode == 0
    return repo, run_id


def _crash_after_intent(repo: Path, run_id: str, *, moved: bool, ready: bool = False) -> str:
    """``ready``: as ``merge --ready`` records it (the prefix's tasks named)."""
    ledger = Ledger.existing(repo)
    run = ledger.run(run_id)
    tip, base = run.integration_commit, run.base_commit
    intent: dict[str, Any] = {"target": "main", "from_commit": base, "to_commit": tip}
    intent["who"] = "root"
    if ready:
        intent["tasks"] = [r.task_id for r in ledger.integration_chain(run_id)]
    ledger.event(run_id, "merge_intent", {**intent, "state": "intended"})
    ledger.close()
    if moved:
        git(repo, "merge", "--ff-only", "--quiet", tip)
    return str(tip)


@pytest.mark.parametrize("command", ["status", "resume"])
def test_a_landing_killed_after_the_move_is_recorded_as_merged(
    awaiting: tuple[Path, str], command: str
) -> None:
    repo, run_id = awaiting
    tip = _crash_after_intent(repo, run_id, moved=True)
    assert run_cli(repo, command, run_id).returncode == 0
    status = json.loads(run_cli(repo, "status", "--json", run_id).stdout)
    assert status["state"] == "merged" and git(repo, "rev-parse", "main") == tip
    assert [t["state"] for t in status["task_list"]] == ["merged"]


def test_a_landing_killed_before_the_move_is_void_and_merge_lands_it(
    awaiting: tuple[Path, str],
) -> None:
    repo, run_id = awaiting
    base = git(repo, "rev-parse", "main")
    tip = _crash_after_intent(repo, run_id, moved=False)
    status = json.loads(run_cli(repo, "status", "--json", run_id).stdout)
    assert status["merge_reconciled"] == "void" and status["state"] == "awaiting_approval"
    assert git(repo, "rev-parse", "main") == base
    assert run_cli(repo, "merge", run_id).returncode == 0
    assert git(repo, "rev-parse", "main") == tip
    assert json.loads(run_cli(repo, "status", "--json", run_id).stdout)["state"] == "merged"


@pytest.mark.parametrize("moved", [True, False], ids=["after-the-move", "before-the-move"])
def test_a_merge_ready_killed_at_the_move_is_settled_from_its_intent(
    awaiting: tuple[Path, str], moved: bool
) -> None:
    repo, run_id = awaiting
    base = git(repo, "rev-parse", "main")
    tip = _crash_after_intent(repo, run_id, moved=moved, ready=True)
    status = json.loads(run_cli(repo, "status", "--json", run_id).stdout)
    assert status["merge_reconciled"] == ("merged" if moved else "void")
    if moved:
        assert status["state"] == "merged" and git(repo, "rev-parse", "main") == tip
        assert [t["state"] for t in status["task_list"]] == ["merged"]
        return
    assert status["state"] == "awaiting_approval" and git(repo, "rev-parse", "main") == base
    assert run_cli(repo, "merge", run_id, "--ready").returncode == 0
    assert git(repo, "rev-parse", "main") == tip
    kinds = [e["kind"] for e in json.loads(run_cli(repo, "log", "--json").stdout)]
    assert kinds.count("landed") == 1


def test_an_intent_of_a_landing_under_way_is_left_to_its_lander(
    awaiting: tuple[Path, str],
) -> None:
    """``status`` in another terminal while ``merge --ready`` is between its intent and its move:
    the intent belongs to a live lander (it holds the run's landing lock), so nothing is settled
    and nobody else may land; once the lander is gone, the same intent is a kill's and settled."""
    from crewchief.merge.reconcile import landing

    repo, run_id = awaiting
    base = git(repo, "rev-parse", "main")
    with landing(repo, run_id):  # this process is the lander, stopped right after its intent
        _crash_after_intent(repo, run_id, moved=False, ready=True)
        status = json.loads(run_cli(repo, "status", "--json", run_id).stdout)
        assert status["merge_reconciled"] is None and status["state"] == "awaiting_approval"
        merge = run_cli(repo, "merge", run_id, "--ready")
        assert merge.returncode == 2 and "being landed by another crewchief process" in merge.stderr
        assert git(repo, "rev-parse", "main") == base
    status = json.loads(run_cli(repo, "status", "--json", run_id).stdout)
    assert status["merge_reconciled"] == "void"
