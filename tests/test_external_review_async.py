"""A host agent reviews as the manager, and the swarm does not stop for it: while a patch awaits
the host's verdict, the next task starts and finishes; the verdicts, given later and in any
order, move the run on to the gate. Real git, real SQLite, the driver in its own thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from crewchief.attempts.executor import LocalExecutor
from crewchief.config import load as load_config
from crewchief.gate import external_review
from crewchief.gate.external_review import ExternalReviewer
from crewchief.gate.verify import DeferredReviewer, RuleReviewer
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.records import ChangeRequest, Plan
from crewchief.run.intake import open_run
from crewchief.run.orchestrate import Orchestrator
from repo_helpers import command_task, default_config, git, make_repo

#: Only a backstop: every wait below ends on a ledger event.
DEADLINE_S = 120


def _events(ledger: Ledger, run_id: str) -> list[tuple[str, str | None]]:
    return [(e.kind, e.task_id) for e in ledger.event_records(run_id)]


def _wait_for(ledger: Ledger, run_id: str, kind: str, task: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while (kind, task) not in _events(ledger, run_id):
        assert time.monotonic() < deadline, f"no {kind} of {task}: {_events(ledger, run_id)}"
        time.sleep(0.05)


def test_the_swarm_goes_on_while_a_patch_awaits_the_hosts_verdict(tmp_path: Path) -> None:
    config = default_config(test_command="true", reviewer="external", workers=1)
    repo = make_repo(tmp_path / "r", {"a.py": "A = 1\n", "b.py": "B = 1\n"}, config)
    plan = Plan.model_validate(
        {
            "goal": "two notes",
            "planner": "hand",
            "tasks": [
                command_task({"id": "a", "owns": ["a.py"], "command": "echo '# a' >> a.py"}),
                command_task({"id": "b", "owns": ["b.py"], "command": "echo '# b' >> b.py"}),
            ],
        }
    )
    cfg = load_config(repo)
    base = git(repo, "rev-parse", "main")
    ledger, run_id = open_run(repo, ChangeRequest(goal=plan.goal), plan, cfg, "main", base)
    reviewer = external_review.ExternalReviewer(Ledger(ledger.path), run_id)
    orch = Orchestrator(repo, Ledger(ledger.path), cfg, LocalExecutor(1), reviewer)
    ended: list[RunState] = []
    driver = threading.Thread(target=lambda: ended.append(orch.drive(run_id)))
    driver.start()
    try:
        # One worker: b can only have run because a's review did not hold the driver.
        _wait_for(ledger, run_id, "review_requested", "a")
        _wait_for(ledger, run_id, "review_requested", "b")
        assert ledger.task_states(run_id) == {"a": TaskState.PRODUCED, "b": TaskState.PRODUCED}
        assert set(external_review.awaiting_host(ledger, run_id)) == {"a", "b"}
        external_review.submit(ledger, run_id, "b", "approve", "test-host")
        _wait_for(ledger, run_id, "verdict", "b")
        assert ledger.task_states(run_id)["a"] == TaskState.PRODUCED
        external_review.submit(ledger, run_id, "a", "approve", "test-host")
    finally:
        driver.join(DEADLINE_S)
    assert ended == [RunState.AWAITING_APPROVAL]
    kinds = _events(ledger, run_id)
    assert kinds.index(("attempt_started", "b")) > kinds.index(("review_requested", "a"))
    verdicts = [v.reviewer for _, v in ledger.verdicts(run_id, "a")]
    assert verdicts == ["manager:host:test-host"]


def test_only_a_reviewer_that_can_answer_later_is_a_deferred_one(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    try:
        assert isinstance(ExternalReviewer(ledger, "run"), DeferredReviewer)
        assert not isinstance(RuleReviewer(), DeferredReviewer)
    finally:
        ledger.close()
