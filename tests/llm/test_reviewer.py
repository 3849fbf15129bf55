"""The manager as reviewer: hunk verdicts, approve | revise | reject, and the change summary."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo

from crewchief import git
from crewchief.backends.base import WorkContext
from crewchief.errors import ModelUnavailable
from crewchief.llm.reviewer import LLMReviewer, hunk_ids
from crewchief.llm.spec import BACKEND, WorkerSpec, task_spec
from crewchief.llm.summary import AcceptedPatch, ChangeSummary
from crewchief.llm.worker import LLMWorker
from crewchief.models.scripted import Call, Output, Reply, Text, script
from crewchief.records import CheckResult, ModelWork, Plan, Task, WorkerResult

PASSED = [CheckResult(name="compileall", kind="fast", passed=True)]


def task(tid: str = "cart", owns: str = "shop/cart.py", **extra: Any) -> Task:
    return Task(
        id=tid,
        title=f"task {tid}",
        instructions="Totals in cents.",
        owned_paths=(owns,),
        backend=BACKEND,
        spec=task_spec(WorkerSpec(model="x:y"), [], []),
        **extra,
    )


PLAN = Plan(
    goal="Totals in cents",
    planner="test",
    tasks=(
        task(),
        task("report", "shop/report.py", depends_on=("cart",)),
        task("prices", "shop/prices.py"),
    ),
)


def patched(work: WorkContext, edits: dict[str, tuple[str, str]]) -> WorkerResult:
    for path, (old, new) in edits.items():
        f = work.worktree / path
        f.write_text(f.read_text().replace(old, new))
    patch = git.diff_worktree(work.worktree, work.base_commit)
    return WorkerResult(status="ok", patch=patch, rationale="cents")


def reviewer(*steps: Any) -> LLMReviewer:
    return LLMReviewer(script(*steps, name="reviewer"), plan=PLAN)


def review(**fields: Any) -> Output:
    return Output({"hunks": [], "off_plan": [], "reasons": [], "feedback": "", **fields})


CENTS = {"shop/cart.py": ("return sum(", "return 100 * sum(")}


def test_approve_with_a_verdict_per_hunk(work: WorkContext) -> None:
    seen: list[str] = []

    def approve(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        seen.append(str(messages[0]))
        return review(
            decision="approve",
            hunks=[{"path": "shop/cart.py", "hunk": 1, "ok": True, "note": "right"}],
        )

    r = reviewer(approve)
    verdict = r.review(task(), patched(work, CENTS), PASSED)
    assert verdict.decision == "approve" and verdict.feedback is None
    assert [(h.path, h.hunk, h.ok, h.note) for h in verdict.hunks] == [
        ("shop/cart.py", 1, True, "right")
    ]
    assert "## shop/cart.py hunk 1" in seen[0] and "report: task report" in seen[0]
    assert [c.role for c in verdict.work.calls] == ["reviewer"] and verdict.work.transcript
    assert "work" not in verdict.model_dump()  # recorded apart, not in the verdict's JSON


def test_revise_feedback_is_made_by_the_next_attempt(work: WorkContext) -> None:
    first = patched(work, {"shop/cart.py": ("return sum(", "return 100.0 * sum(")})
    verdict = reviewer(
        review(
            decision="revise",
            feedback="Use the integer 100, not 100.0.",
            hunks=[{"path": "shop/cart.py", "hunk": 1, "ok": False, "note": "float"}],
        )
    ).review(task(), first, PASSED)
    assert verdict.decision == "revise"
    assert verdict.feedback == "Use the integer 100, not 100.0."
    git.run(["reset", "-q", "--hard"], work.worktree)  # the next attempt starts from the base

    def follow(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        assert "Use the integer 100, not 100.0." in str(messages[0])
        return Call(
            "edit_file",
            {"path": "shop/cart.py", "search": "return sum(", "replace": "return 100 * sum("},
        )

    ctx = WorkContext(work.worktree, work.base_commit, "a2", 60.0, verdict.feedback)
    worker = LLMWorker(script(follow, Output({"rationale": "integer cents"})))
    second = worker.run(task(), ctx)
    patch = git.diff_worktree(work.worktree, work.base_commit)
    assert second.status == "ok" and b"+    return 100 * sum(" in patch
    approved = reviewer(
        review(decision="approve", hunks=[{"path": "shop/cart.py", "hunk": 1, "ok": True}])
    ).review(task(), second.model_copy(update={"patch": patch}), PASSED)
    assert approved.decision == "approve"


def test_off_plan_hunk_turns_an_approval_into_a_revision(work: WorkContext) -> None:
    result = patched(
        work,
        {
            "shop/cart.py": ('"""The cart."""', '"""The shopping cart."""'),
            **{"shop/prices.py": ("len(sku)", "len(sku) + 0")},
        },
    )
    assert hunk_ids(result.patch) == [("shop/cart.py", 1), ("shop/prices.py", 1)]
    verdict = reviewer(
        review(
            decision="approve",
            off_plan=["shop/cart.py hunk 1"],
            hunks=[{"path": "shop/cart.py", "hunk": 1, "ok": True, "note": "docstring"}],
        )
    ).review(task(owns="shop/"), result, PASSED)
    assert verdict.decision == "revise"
    assert [(h.path, h.ok, h.note) for h in verdict.hunks] == [
        ("shop/cart.py", False, "docstring [off plan]"),
        ("shop/prices.py", False, "not reviewed"),
    ]
    assert verdict.feedback and "shop/cart.py hunk 1: docstring [off plan]" in verdict.feedback


def test_reject_keeps_the_models_reasons(work: WorkContext) -> None:
    verdict = reviewer(review(decision="reject", reasons=["wrong approach"])).review(
        task(), patched(work, CENTS), PASSED
    )
    assert verdict.decision == "reject" and verdict.reasons == ("wrong approach",)


def test_failed_fast_check_is_a_revision_without_a_model_call(work: WorkContext) -> None:
    failed = [CheckResult(name="ruff check", kind="fast", passed=False, output="F821 undefined")]
    r = reviewer()
    verdict = r.review(task(), patched(work, CENTS), failed)
    assert verdict.decision == "revise" and "F821 undefined" in (verdict.feedback or "")
    assert verdict.work == ModelWork()


def test_failed_worker_or_scope_is_rejected_by_the_rules(work: WorkContext) -> None:
    r = reviewer()
    scope = [CheckResult(name="scope", kind="scope", passed=False, output="outside")]
    assert r.review(task(), patched(work, CENTS), scope).decision == "reject"
    error = WorkerResult(status="error", error="boom")
    assert r.review(task(), error, []).decision == "reject"


def test_reviewer_malformed_output_is_no_verdict_and_raises(work: WorkContext) -> None:
    r = LLMReviewer(script(Text("LGTM"), Text("LGTM!"), name="r"), output_retries=1)
    with pytest.raises(ModelUnavailable, match=r"the reviewer model .* failed") as failed:
        r.review(task(), patched(work, CENTS), PASSED)
    assert failed.value.work is not None and len(failed.value.work.calls) == 2


def accepted() -> list[AcceptedPatch]:
    return [AcceptedPatch(PLAN.task(t), b"", f"did {t}") for t in ("report", "cart", "prices")]


def test_summary_gives_an_order_with_reasons() -> None:
    r = reviewer(
        Output(
            {
                "summary": "Totals in cents.",
                "order": [
                    {"task": "cart", "reason": "the base of the rest"},
                    {"task": "report", "reason": "uses cart"},
                    {"task": "prices", "reason": "independent, least risk"},
                ],
            }
        )
    )
    summary = r.summarize(PLAN, accepted())
    assert isinstance(summary, ChangeSummary)
    assert summary.event_data() == {
        "summary": "Totals in cents.",
        "order": [
            {"task": "cart", "reason": "the base of the rest"},
            {"task": "report", "reason": "uses cart"},
            {"task": "prices", "reason": "independent, least risk"},
        ],
    }
    assert [c.role for c in summary.work.calls] == ["manager"]


def test_an_invalid_proposed_order_is_repaired() -> None:
    r = reviewer(
        Output(
            {
                "summary": "s",
                "order": [
                    {"task": "report", "reason": "first!"},
                    {"task": "ghost", "reason": "?"},
                    {"task": "report", "reason": "again"},
                ],
            }
        )
    )
    order = [(s.task, s.reason) for s in r.summarize(PLAN, accepted()).order]
    assert order == [
        ("cart", "not placed by the manager; after its dependencies"),
        ("report", "first!"),
        ("prices", "not placed by the manager; after its dependencies"),
    ]


def test_reviews_from_several_threads_each_get_their_own_model(work: WorkContext) -> None:
    import threading

    r = LLMReviewer("scripted:crewchief.models.scripted:appender")
    models: list[object] = []
    thread = threading.Thread(target=lambda: models.append(r._model.get()))
    thread.start()
    thread.join()
    assert models[0] is not r._model.get()
