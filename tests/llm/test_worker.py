"""The LLM worker: tools confined to the worktree and the task, limits, feedback, results."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo

from crewchief.backends.base import WorkContext
from crewchief.errors import UserError
from crewchief.llm.spec import BACKEND, WorkerSpec, task_spec, worker_spec
from crewchief.llm.worker import LLMWorker, llm_backend
from crewchief.models.pricing import Price
from crewchief.models.scripted import Call, Output, Reply, script
from crewchief.records import Task

from .llm_repos import changed, diff

REPORT = Output({"rationale": "currency added", "assumptions": ["EUR"], "checks_run": []})


def make_task(**extra: Any) -> Task:
    spec = WorkerSpec(
        model="scripted:unused:unused",
        max_steps=extra.pop("max_steps", 10),
        price=Price(input=1.0, output=2.0),
    )
    fields: dict[str, Any] = {
        "id": "cart",
        "title": "currency in totals",
        "instructions": "Return totals in cents.",
        "owned_paths": ("shop/cart.py",),
        "backend": BACKEND,
        "spec": task_spec(spec, ["total"], []),
        **extra,
    }
    return Task(**fields)


def edit(path: str, search: str, replace: str) -> Call:
    return Call("edit_file", {"path": path, "search": search, "replace": replace})


def test_out_of_scope_edit_is_refused_at_the_tool_and_patch_stays_in_scope(
    work: WorkContext,
) -> None:
    model = script(
        Call("read_file", {"path": "shop/cart.py"}),
        [
            edit("shop/prices.py", "len(sku)", "len(sku) * 100"),
            edit("shop/cart.py", "return sum(", "return 100 * sum("),
        ],
        REPORT,
    )
    result = LLMWorker(model).run(make_task(), work)
    assert result.status == "ok" and result.rationale == "currency added"
    assert changed(work) == ["shop/cart.py"]
    assert "return 100 * sum(" in (work.worktree / "shop/cart.py").read_text()
    refusal = next(e for e in result.transcript if e.content.startswith("REFUSED"))
    assert refusal.kind == "tool_result" and refusal.tool == "edit_file"
    assert "shop/prices.py is outside this task's owned paths (shop/cart.py)" in refusal.content
    assert "refused: REFUSED: shop/prices.py" in result.log


def test_result_carries_calls_usage_cost_and_exact_transcript(work: WorkContext) -> None:
    result = LLMWorker(script(Call("read_file", {"path": "shop/cart.py"}), REPORT)).run(
        make_task(), work
    )
    assert [c.role for c in result.calls] == ["worker", "worker"]
    for c in result.calls:  # priced at the spec's price of the worker model
        assert c.input_tokens and c.output_tokens
        assert c.cost_usd == (c.input_tokens * 1.0 + c.output_tokens * 2.0) / 1e6
    assert result.usage.input_tokens == sum(c.input_tokens or 0 for c in result.calls)
    kinds = [e.kind for e in result.transcript]
    assert kinds[:3] == ["system", "prompt", "tool_call"]
    assert "You may edit only these paths: shop/cart.py." in result.transcript[0].content
    assert "def total(skus: list[str]) -> int" in result.transcript[1].content  # packed snippet
    assert result.transcript[3].content.startswith("shop/cart.py lines 1-7 of 7")


def test_reviewer_feedback_becomes_the_workers_instruction(work: WorkContext) -> None:
    def obey(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        assert "Reviewer feedback on your previous attempt" in str(messages[0])
        assert "Use integer cents, not floats." in str(messages[0])
        return edit("shop/cart.py", "return sum(", "return 100 * sum(")

    ctx = WorkContext(
        work.worktree,
        work.base_commit,
        "a2",
        60.0,
        extra_instruction="Use integer cents, not floats.",
    )
    assert LLMWorker(script(obey, REPORT)).run(make_task(), ctx).status == "ok"
    assert "+    return 100 * sum(" in diff(ctx)


def test_step_limit_stops_the_attempt_and_keeps_its_calls(work: WorkContext) -> None:
    reads = [Call("read_file", {"path": "shop/cart.py"})] * 6
    result = LLMWorker(script(*reads, REPORT)).run(make_task(max_steps=3), work)
    assert result.status == "error"
    assert result.error is not None and "UsageLimitExceeded" in result.error
    assert len(result.calls) == 3


def test_token_budget_stops_the_attempt(work: WorkContext) -> None:
    spec = WorkerSpec(model="x:y", token_budget=50)
    task = make_task(spec=task_spec(spec, [], []))
    result = LLMWorker(script(*[Call("read_file", {"path": "shop/cart.py"})] * 5)).run(task, work)
    assert result.status == "error" and "total_tokens_limit of 50" in (result.error or "")


def test_wall_clock_timeout_is_a_timeout_result(work: WorkContext) -> None:
    slow = script(Call("read_file", {"path": "shop/cart.py"}), REPORT, delay=lambda: 1.0)
    ctx = WorkContext(work.worktree, work.base_commit, "a1", timeout_s=0.5)
    start = time.monotonic()
    result = LLMWorker(slow).run(make_task(), ctx)
    assert result.status == "timeout" and time.monotonic() - start < 5


def test_high_risk_task_is_not_given_to_a_worker(work: WorkContext) -> None:
    result = LLMWorker(script()).run(make_task(risk="high"), work)
    assert result.status == "error" and "workers take only low, medium" in (result.error or "")
    assert result.calls == ()


def test_paths_outside_the_worktree_are_refused_for_reading(work: WorkContext) -> None:
    os.symlink("/etc", work.worktree / "shop" / "etc")
    model = script(
        [
            Call("read_file", {"path": "../repo/shop/cart.py"}),
            Call("read_file", {"path": "shop/etc/passwd"}),
            Call("read_file", {"path": ".git/config"}),
        ],
        REPORT,
    )
    result = LLMWorker(model).run(make_task(), work)
    results = [e.content for e in result.transcript if e.tool == "read_file"][3:]
    assert results[0].startswith("REFUSED: '../repo/shop/cart.py' must be a repository-relative")
    assert results[1] == "REFUSED: shop/etc/passwd leads outside the repository"
    assert results[2].startswith("REFUSED: .git/config is inside .git")
    assert not (work.worktree / "shop" / "etc").exists()  # not the task's: undone


def test_checks_run_only_the_tasks_own_and_their_byproducts_are_undone(work: WorkContext) -> None:
    check = "python -m compileall -q {files}"
    model = script(
        edit("shop/cart.py", "return sum(", "return 100 * sum("),
        [Call("run_check", {"command": check}), Call("run_check", {"command": "rm -rf /"})],
        Output({"rationale": "done", "checks_run": [check, "pytest"]}),
    )
    result = LLMWorker(model).run(make_task(checks=(check,)), work)
    assert f"check passed: {check}" in result.log
    assert "REFUSED: not one of this task's checks" in result.log
    assert "claimed to run 'pytest' but did not" in result.assumptions
    (work.worktree / "stray.txt").write_text("x")  # not the worker's: left for the gate
    assert changed(work) == ["shop/cart.py", "stray.txt"]


def test_a_new_file_is_created_with_an_empty_search(work: WorkContext) -> None:
    task = make_task(
        owned_paths=("shop/money.py",),
        spec=task_spec(WorkerSpec(model="x:y"), [], ["shop/money.py"]),
    )
    model = script(
        edit("shop/money.py", "", "CENTS = 100\n"), edit("shop/money.py", "", "again"), REPORT
    )
    result = LLMWorker(model).run(task, work)
    assert changed(work) == ["shop/money.py"]
    assert "shop/money.py exists: give the exact text" in str(result.transcript)


def test_ambiguous_or_missing_search_text_is_explained(work: WorkContext) -> None:
    model = script([edit("shop/cart.py", "s", "x"), edit("shop/cart.py", "nowhere", "x")], REPORT)
    result = LLMWorker(model).run(make_task(), work)
    text = str(result.transcript)
    assert "search text matches" in text and "search text not found in shop/cart.py" in text
    assert changed(work) == []


def test_scripted_worker_by_model_string(work: WorkContext, repo: Path) -> None:
    task = make_task(
        spec=task_spec(
            WorkerSpec(model="scripted:crewchief.models.scripted:appender?line=%23%20hi"), [], []
        )
    )
    result = LLMWorker().run(task, work)
    assert result.status == "ok", result.error
    assert (work.worktree / "shop/cart.py").read_text().startswith('# hi\n"""The cart."""')
    assert result.calls[0].model == "scripted:crewchief.models.scripted:appender?line=%23%20hi"


def test_job_settings_override_the_planned_model_and_limits() -> None:
    task = make_task()
    spec = worker_spec(
        task,
        {
            "model": "openai:gpt-4.1-mini",
            "max_steps": 4,
            "token_budget": None,
            "risk_levels": ["low"],
            "prices": {"gpt-4.1": {"input": 9, "output": 9}},
        },
    )
    assert (spec.model, spec.max_steps, spec.token_budget) == ("openai:gpt-4.1-mini", 4, 200_000)
    assert spec.risk_levels == ("low",)
    assert spec.price == Price(input=9, output=9)
    assert worker_spec(task, {}).model == "scripted:unused:unused"
    with pytest.raises(UserError, match="no worker model: set worker_model"):
        worker_spec(make_task(spec={}), {"model": None})


def test_llm_backend_factory_builds_the_worker_from_settings(work: WorkContext) -> None:
    backend = llm_backend("worker", {"model": "scripted:crewchief.models.scripted:appender"})
    assert isinstance(backend, LLMWorker)
    assert backend.run(make_task(spec={}), work).status == "ok"
    with pytest.raises(UserError, match=r"unknown backend llm:boss \(known: llm:worker\)"):
        llm_backend("boss")


def test_malformed_report_is_retried_then_a_clear_failure(work: WorkContext) -> None:
    bad = Output({"assumptions": "not a list"})
    result = LLMWorker(script(bad, bad, bad)).run(make_task(), work)
    assert result.status == "error"
    assert "UnexpectedModelBehavior" in (result.error or "")
    assert "assumptions" in (result.error or "")  # what was wrong, from the last try
    assert len(result.calls) == 3 and [e.kind for e in result.transcript].count("error") == 2
