"""The request/response path through the real SDK model classes, served locally: OpenAI chat
completions and Anthropic messages on the wire, HTTP retries, and errors after retries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_ai import models

from crewchief.backends.base import WorkContext
from crewchief.llm.planner import LLMPlanner
from crewchief.llm.spec import WorkerSpec, task_spec
from crewchief.llm.worker import LLMWorker
from crewchief.models.providers import build_model
from crewchief.records import ChangeRequest

from .test_worker import make_task
from .wire import Canned, anthropic_tool_use, error, loopback, openai_tool_call


@pytest.fixture(autouse=True)
def _local_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real model classes, local servers only: keys are fakes, requests allowed."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-key")
    with models.override_allow_model_requests(True):
        yield


REPORT = {"rationale": "read it", "assumptions": [], "checks_run": []}
PLAN = {
    "tasks": [
        {"id": "t1", "title": "cents", "instructions": "cents", "owned_paths": ["shop/cart.py"]}
    ]
}


def test_openai_chat_completions_round_trip(work: WorkContext) -> None:
    canned = Canned(
        [
            (200, {}, openai_tool_call("read_file", {"path": "shop/cart.py"}, (1200, 40, 1000))),
            (200, {}, openai_tool_call("final_result", REPORT, (1400, 60, 0))),
        ]
    )
    model = build_model("openai:gpt-4.1-mini", http_client=canned.client())
    task = make_task(spec=task_spec(WorkerSpec(model="openai:gpt-4.1-mini"), [], []))
    result = LLMWorker(model).run(task, work)  # priced from the default table
    assert result.status == "ok" and result.rationale == "read it"
    (path, first), (_, second) = canned.requests
    assert path == "/v1/chat/completions" and first["model"] == "gpt-4.1-mini"
    assert first["messages"][0]["role"] == "system"
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "read_file",
        "edit_file",
        "final_result",
    }
    tool_reply = second["messages"][-1]
    assert tool_reply["role"] == "tool" and "shop/cart.py lines 1-7" in tool_reply["content"]
    call = result.calls[0]
    assert (call.model, call.input_tokens, call.output_tokens, call.cached_tokens) == (
        "openai:gpt-4.1-mini",
        1200,
        40,
        1000,
    )
    assert call.cost_usd == pytest.approx((200 * 0.4 + 1000 * 0.1 + 40 * 1.6) / 1e6)


def test_anthropic_messages_round_trip(repo: Path) -> None:
    canned = Canned([(200, {}, anthropic_tool_use("final_result", PLAN, (900, 80, 100)))])
    model = build_model("anthropic:claude-sonnet-4-6", http_client=canned.client())
    planner = LLMPlanner(model, WorkerSpec(model="x:y"))
    plan = planner.plan(ChangeRequest(goal="cents"), repo)
    assert [t.id for t in plan.tasks] == ["t1"]
    path, body = canned.requests[0]
    assert path == "/v1/messages" and body["model"] == "claude-sonnet-4-6"
    assert "manager of a team" in str(body["system"])
    assert any(t["name"] == "final_result" for t in body["tools"])
    call = plan.work.calls[0]
    assert (call.model, call.input_tokens, call.output_tokens, call.cached_tokens) == (
        "anthropic:claude-sonnet-4-6",
        1000,
        80,
        100,
    )  # input includes the cache read
    assert call.cost_usd == pytest.approx((900 * 3.0 + 100 * 0.3 + 80 * 15.0) / 1e6)


@pytest.mark.parametrize("status", [429, 503])
def test_provider_error_is_retried_with_backoff_over_real_http(
    work: WorkContext, status: int
) -> None:
    canned = Canned(
        [
            error(status, "slow down"),
            (200, {}, openai_tool_call("final_result", REPORT, (100, 10, 0))),
        ]
    )
    with loopback(canned) as url:
        model = build_model(f"openai-compatible:qwen3-coder@{url}")
        result = LLMWorker(model).run(make_task(), work)
    assert result.status == "ok", result.error
    assert len(canned.requests) == 2 and len(result.calls) == 1


def test_error_that_outlasts_the_retries_fails_the_attempt_clearly(work: WorkContext) -> None:
    canned = Canned([error(503, "overloaded")] * 5)
    model = build_model("openai:gpt-4.1-mini", http_client=canned.client())
    result = LLMWorker(model).run(make_task(), work)
    assert result.status == "error" and "503" in (result.error or "")
    assert len(canned.requests) == 5  # one try and MAX_RETRIES retries
    assert result.calls == ()


def test_one_model_serves_several_runs_in_a_row(repo: Path) -> None:
    bad = {"tasks": [{"id": "t1", "title": "x", "instructions": "x", "owned_paths": ["nope.py"]}]}
    canned = Canned(
        [
            (200, {}, openai_tool_call("final_result", bad, (10, 5, 0))),
            (200, {}, openai_tool_call("final_result", PLAN, (20, 5, 0))),
        ]
    )
    with loopback(canned) as url:
        planner = LLMPlanner(
            build_model(f"openai-compatible:m@{url}"),
            WorkerSpec(model="x:y"),
        )
        assert [t.id for t in planner.plan(ChangeRequest(goal="cents"), repo).tasks] == ["t1"]
    assert "owns nope.py, which does not exist" in str(canned.requests[1][1]["messages"])
