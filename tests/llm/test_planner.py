"""The manager as planner: structured plans, mechanical validation, corrections, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_ai.messages import ModelMessage, ModelRequest, UserPromptPart
from pydantic_ai.models.function import AgentInfo

from crewchief.errors import PlanningFailed, RunError
from crewchief.llm import prompts
from crewchief.llm.planner import LLMPlanner, PlanDraft, check_plan
from crewchief.llm.spec import BACKEND, WorkerSpec, new_files, worker_spec
from crewchief.models.scripted import Output, Reply, Text, script
from crewchief.records import ChangeRequest, ModelWork, Plan

WORKER = WorkerSpec(model="openai:gpt-4.1-mini", max_steps=12, token_budget=50_000)
REQUEST = ChangeRequest(goal="Give totals a currency", focus=("shop/",))


def task(tid: str, owns: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "title": f"task {tid}",
        "instructions": f"do {tid}",
        "owned_paths": owns,
        **extra,
    }


GOOD = {
    "tasks": [
        task("prices", ["shop/prices.py"], symbols=["price"], acceptance_checks=["pytest -q"]),
        task("money", ["shop/money.py"], new_files=["shop/money.py"], risk="medium"),
        task("cart", ["shop/cart.py"], depends_on=["prices", "money"]),
    ],
    "parallel_groups": [["prices", "money"], ["cart"]],
    "files": ["shop/prices.py", "shop/money.py", "shop/cart.py"],
    "risks": ["rounding"],
    "open_questions": ["which currency?"],
}


def planner(*steps: Any, **kw: Any) -> LLMPlanner:
    return LLMPlanner(script(*steps, name="manager"), WORKER, allowed_checks=["pytest"], **kw)


def last_user_text(messages: list[ModelMessage]) -> str:
    request = messages[-1]
    assert isinstance(request, ModelRequest)
    return "\n".join(str(p.content) for p in request.parts if isinstance(p, UserPromptPart))


def test_plan_has_dependencies_parallel_groups_and_worker_spec(repo: Path) -> None:
    seen: list[str] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        seen.append(last_user_text(messages))
        return Output(GOOD)

    p = planner(answer)
    plan = p.plan(REQUEST, repo)
    assert [t.id for t in plan.tasks] == ["prices", "money", "cart"]
    assert plan.task("cart").depends_on == ("prices", "money")
    assert plan.parallel_groups == (("prices", "money"), ("cart",))
    assert plan.risks == ("rounding",) and plan.open_questions == ("which currency?",)
    assert all(t.backend == BACKEND and worker_spec(t) == WORKER for t in plan.tasks)
    assert new_files(plan.task("money")) == ["shop/money.py"]
    assert plan.task("prices").checks == ("pytest -q",)
    assert "Cart totals live in shop/cart.py" in seen[0]  # the project summary
    assert "def price(sku: str) -> int" in seen[0]  # the symbol map of the focus area
    calls = plan.work.calls
    assert len(calls) == 1 and calls[0].role == "manager"
    assert calls[0].prompt_digest == prompts.digest(
        "planner_system.j2", "planner_user.j2", "planner_fix.j2"
    )


def test_the_plans_work_is_not_part_of_its_json(repo: Path) -> None:
    plan = planner(Output(GOOD)).plan(REQUEST, repo)
    assert plan.work.calls and plan.work.transcript
    text = plan.model_dump_json()
    assert '"work"' not in text and "prompt_digest" not in text
    assert Plan.model_validate_json(text) == plan.model_copy(update={"work": ModelWork()})
    with pytest.raises(ValidationError, match="work is not part of a plan's JSON"):
        Plan.model_validate_json(text[:-1] + ',"work":{}}')


def test_invalid_plan_goes_back_with_reasons_and_is_corrected(repo: Path) -> None:
    clash = {"tasks": [task("a", ["shop/cart.py"]), task("b", ["shop/cart.py", "shop/nope.py"])]}
    feedback: list[str] = []

    def fixed(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        feedback.append(last_user_text(messages))
        return Output(
            {
                "tasks": [
                    task("a", ["shop/cart.py"]),
                    task("b", ["shop/report.py"], depends_on=["a"]),
                ]
            }
        )

    p = planner(Output(clash), fixed)
    plan = p.plan(REQUEST, repo)
    assert plan.task("b").depends_on == ("a",)
    assert "tasks a and b may run in parallel but both own shop/cart.py" in feedback[0]
    assert "owns shop/nope.py, which does not exist and is not in new_files" in feedback[0]
    assert len(plan.work.calls) == 2  # both conversations' calls, the correction's too


def test_plan_still_invalid_after_corrections_is_a_clear_failure(repo: Path) -> None:
    cycle = Output(
        {
            "tasks": [
                task("a", ["shop/cart.py"], depends_on=["b"]),
                task("b", ["shop/prices.py"], depends_on=["a"]),
            ]
        }
    )
    p = planner(cycle, cycle, corrections=1)
    with pytest.raises(
        PlanningFailed, match=r"still invalid after 1 corrections:\n.*dependency cycle"
    ) as exc:
        p.plan(REQUEST, repo)
    assert isinstance(exc.value, RunError)  # the CLI's message and exit code, as before
    assert len(exc.value.work.calls) == 2  # kept for the ledger even though planning failed


def test_malformed_output_is_retried_then_accepted(repo: Path) -> None:
    plan = planner(Output({"tasks": [{"id": "x"}]}), Output(GOOD)).plan(REQUEST, repo)
    assert len(plan.tasks) == 3
    assert [e.kind for e in plan.work.transcript].count("error") == 1  # the error sent back


def test_malformed_output_every_time_fails_clearly(repo: Path) -> None:
    p = planner(
        Text("here is my plan: do it"), Text("still prose"), Text("prose"), output_retries=2
    )
    with pytest.raises(PlanningFailed, match="gave no usable plan: UnexpectedModelBehavior") as exc:
        p.plan(REQUEST, repo)
    assert len(exc.value.work.calls) == 3


def check(draft: dict[str, Any], files: set[str] | None = None) -> list[str]:
    d = PlanDraft.model_validate(draft)
    p = planner(Output(draft))
    built, _ = p.to_plan(d, REQUEST, files or {"shop/cart.py", "shop/prices.py"})
    assert built is not None
    return check_plan(built, d, files or {"shop/cart.py", "shop/prices.py"}, 20, ["pytest"])


def test_new_files_must_be_owned_and_not_exist() -> None:
    problems = check({"tasks": [task("a", ["shop/cart.py"], new_files=["shop/prices.py"])]})
    assert "task a: new file shop/prices.py already exists" in problems
    assert "task a: new file shop/prices.py is not in its owned_paths" in problems


def test_acceptance_checks_must_be_project_commands() -> None:
    checks = ["curl x | sh", "pytest -q; rm -rf ~", "pytest -q tests/test_cart.py"]
    problems = check({"tasks": [task("a", ["shop/cart.py"], acceptance_checks=checks)]})
    assert problems == [
        f"task a: acceptance check {c!r} is not one of the project's commands (pytest) with "
        "plain arguments"
        for c in checks[:2]
    ]


def test_parallel_group_members_must_be_independent() -> None:
    problems = check(
        {
            "tasks": [task("a", ["shop/cart.py"]), task("b", ["shop/prices.py"], depends_on=["a"])],
            "parallel_groups": [["a", "b"], ["c"]],
        }
    )
    assert "parallel group 1: b depends on a, so they cannot run at the same time" in problems
    assert "parallel group 2 names unknown task(s) c" in problems


def test_directory_ownership_and_unsafe_ids() -> None:
    assert check({"tasks": [task("a", ["shop/"])]}) == []
    assert check({"tasks": [task("a b", ["shop/"])]}) == [
        "task id 'a b' must be 1-40 letters, digits, _ or -"
    ]


def test_a_path_escaping_the_repository_is_sent_back(repo: Path) -> None:
    p = planner(Output({"tasks": [task("a", ["../etc/passwd"])]}), Output(GOOD))
    plan = p.plan(REQUEST, repo)
    assert len(plan.tasks) == 3
    assert any("must be repository-relative POSIX" in e.content for e in plan.work.transcript)
