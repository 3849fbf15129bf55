"""Model errors pause, they do not judge: a reviewer outage leaves the patch verified-but-
unreviewed and pauses the run; ``resume`` reviews it again. Real SDK, real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import models

from crewchief.attempts.executor import LocalExecutor
from crewchief.config import Config
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.llm.reviewer import LLMReviewer
from crewchief.models.providers import build_model
from crewchief.records import ChangeRequest, Plan, Task
from crewchief.run.intake import open_run
from crewchief.run.orchestrate import Orchestrator

from .wire import Canned, error, loopback, openai_tool_call


@pytest.fixture(autouse=True)
def _local_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    with models.override_allow_model_requests(True):
        yield


Response = tuple[int, dict[str, str], dict[str, Any]]


class HtmlOnce(Canned):
    """Serves an HTML page with status 200 first (a proxy's error page), then ``responses``."""

    def __init__(self, responses: list[Response]) -> None:
        super().__init__(list(responses))
        self.html_served = False

    def next(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if not self.html_served:
            self.html_served = True
            self.requests.append((path, json.loads(body or b"{}")))
            return 200, {"content-type": "text/html"}, b"<html><body>Bad gateway</body></html>"
        return super().next(path, body)


APPROVE = {
    "decision": "approve",
    "hunks": [{"path": "shop/cart.py", "hunk": 1, "ok": True}],
}
PLAN = Plan(
    goal="comment the cart",
    planner="hand-written",
    tasks=(
        Task(
            id="cart",
            title="comment the cart",
            instructions="append a comment",
            owned_paths=("shop/cart.py",),
            backend="recipe:command",
            spec={"command": "echo '# reviewed' >> shop/cart.py"},
        ),
    ),
)


def drive(
    repo: Path, url: str, run_id: str | None = None, integrate: bool = False
) -> tuple[Ledger, str, RunState]:
    # `true` never passes the suite's sensitivity probe: the run stops before integration (and
    # the manager's summary), which keeps this test to the review itself — unless the test is
    # about integration, which then opts out of the probe.
    cfg = Config(test_command="true", workers=1, suite_probe=not integrate)
    reviewer = LLMReviewer(build_model(f"openai-compatible:qwen3-coder@{url}"), plan=PLAN)
    ledger = Ledger.for_repo(repo)
    if run_id is None:
        base = ledger_base(repo)
        ledger, run_id = open_run(repo, ChangeRequest(goal=PLAN.goal), PLAN, cfg, "main", base)
    orch = Orchestrator(repo, ledger, cfg, LocalExecutor(1), reviewer)
    return ledger, run_id, orch.drive(run_id)


def ledger_base(repo: Path) -> str:
    head = (repo / ".git/HEAD").read_text().split()[-1]
    return (repo / ".git" / head).read_text().strip()


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param(lambda ok: Canned([error(500, "internal")] * 5 + ok), id="five-500s"),
        pytest.param(lambda ok: HtmlOnce(ok), id="html-with-200"),
    ],
)
def test_reviewer_outage_pauses_the_run_and_resume_reviews_again(
    repo: Path, outage: Callable[[list[Response]], Canned]
) -> None:
    ok: list[Response] = [(200, {}, openai_tool_call("final_result", APPROVE, (100, 10, 0)))]
    canned = outage(ok)
    with loopback(canned) as url:
        ledger, run_id, state = drive(repo, url)
        assert state == RunState.INTERRUPTED
        assert ledger.task_states(run_id)["cart"] == TaskState.PRODUCED
        assert not [v for _, v in ledger.verdicts(run_id, "cart") if v.decision == "reject"]
        pause = [e.data for e in ledger.event_records(run_id) if e.kind == "model_error"]
        assert len(pause) == 1
        assert re.search(r"reviewer model .* failed", str(pause[0]["reason"]))
        ledger, run_id, state = drive(repo, url, run_id)
    assert ledger.task_states(run_id)["cart"] == TaskState.VERIFIED
    assert [v.decision for _, v in ledger.verdicts(run_id, "cart")] == ["approve"]
    assert not canned.responses  # every scripted answer was asked for


def test_a_manager_that_gives_no_summary_pauses_the_run_and_resume_asks_again(
    repo: Path,
) -> None:
    summary = {"summary": "comments the cart", "order": [{"task": "cart", "reason": "alone"}]}
    canned = Canned(
        [(200, {}, openai_tool_call("final_result", APPROVE, (100, 10, 0)))]
        + [error(500, "internal")] * 5
        + [(200, {}, openai_tool_call("final_result", summary, (80, 8, 0)))]
    )
    with loopback(canned) as url:
        ledger, run_id, state = drive(repo, url, integrate=True)
        assert state == RunState.INTERRUPTED
        assert ledger.task_states(run_id)["cart"] == TaskState.VERIFIED
        pause = [e.data for e in ledger.event_records(run_id) if e.kind == "model_error"]
        assert len(pause) == 1 and "failed to summarize" in str(pause[0]["reason"])
        kinds = [e.kind for e in ledger.event_records(run_id)]
        assert "manager_summary" not in kinds and "integrated" not in kinds
        ledger, run_id, state = drive(repo, url, run_id, integrate=True)
    assert state == RunState.AWAITING_APPROVAL
    [made] = [e.data for e in ledger.event_records(run_id) if e.kind == "manager_summary"]
    assert made["summary"] == "comments the cart"
    assert not canned.responses
