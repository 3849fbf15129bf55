"""What counts as spend: every backend's model use reaches the ledger, so budgets see it."""

from __future__ import annotations

from crewchief.records import ModelCall, Usage, WorkerResult
from crewchief.run.budget import spend_of


def test_an_agent_reporting_only_a_usage_total_counts_as_one_call_of_that_cost() -> None:
    result = WorkerResult(
        status="ok", usage=Usage(model="claude-x", input_tokens=10, output_tokens=5, cost_usd=0.25)
    )
    [call] = spend_of(result, "agent:claude")
    assert (call.role, call.model, call.input_tokens, call.cost_usd) == (
        "worker",
        "claude-x",
        10,
        0.25,
    )


def test_an_agent_reporting_nothing_counts_as_unknown_not_free() -> None:
    [call] = spend_of(WorkerResult(status="ok"), "agent:aider")
    assert call.model == "agent:aider" and call.cost_usd is None


def test_recipes_call_no_model_and_llm_workers_report_their_own_calls() -> None:
    assert spend_of(WorkerResult(status="ok"), "recipe:codemod") == ()
    calls = (ModelCall(role="worker", model="m", cost_usd=0.1),)
    assert spend_of(WorkerResult(status="ok", calls=calls), "llm:worker") == calls
