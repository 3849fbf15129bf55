"""The scripted manager, workers and reviewer of ``crewchief demo --feature``: fixed scripts that
play a model-planned feature across the layers of the bundled ``demo_feature`` project, so the
real planner, LLM workers, reviewer, gate and integration run offline, with no key.

The feature: orders carry a currency. The manager plans five tasks (model → handler → client and
tests in parallel → caller); each worker edits its layer; the reviewer sends the client's first
patch back (its total lacks the currency) and approves the revision. Reachable by model string:
``scripted:crewchief.models.feature_script:manager`` (``worker``, ``reviewer``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from crewchief.models.scripted import Call, Output, Reply, script, to_response

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models.function import AgentInfo, FunctionModel

GOAL = "Orders carry a currency: the model, the handler's response, the client and its caller"
REVISED_TASK = "client"
#: What the reviewer asks of the client's first patch (then the next attempt's instruction).
FEEDBACK = "format_total must show the currency after the amount: callers print it as is."


def _task(tid: str, title: str, path: str, what: str, deps: list[str]) -> dict[str, Any]:
    return {
        "id": tid,
        "title": title,
        "instructions": what,
        "owned_paths": [path],
        "depends_on": deps,
        "risk": "low",
    }


TASKS = [
    _task(
        "model",
        "add Order.currency",
        "shop/models.py",
        'Add a field `currency: str = "EUR"` to Order.',
        [],
    ),
    _task(
        "handler",
        "return the currency",
        "shop/handlers.py",
        "get_order's response carries the order's currency.",
        ["model"],
    ),
    _task(
        "client",
        "format a total with its currency",
        "shop/client.py",
        "Add format_total(order) -> str: the amount in units, two decimals, and the currency.",
        ["handler"],
    ),
    {
        **_task(
            "tests",
            "test the currency",
            "tests/test_currency.py",
            "Test that get_order returns the currency.",
            ["handler"],
        ),
        "new_files": ["tests/test_currency.py"],
    },
    _task(
        "caller",
        "describe with the currency",
        "shop/app.py",
        "describe() shows the total through client.format_total.",
        ["client"],
    ),
]

#: task id → (search, replace) edits of its first attempt; the revision's where it differs.
EDITS: dict[str, tuple[str, str]] = {
    "model": ("    total_cents: int\n", '    total_cents: int\n    currency: str = "EUR"\n'),
    "handler": (
        '"total_cents": order.total_cents}',
        '"total_cents": order.total_cents, "currency": order.currency}',
    ),
    "client": (
        "    return handlers.get_order(order_id)\n",
        "    return handlers.get_order(order_id)\n\n\n"
        "def format_total(order: dict[str, object]) -> str:\n"
        "    return f\"{int(order['total_cents']) / 100:.2f}\"\n",
    ),
    "tests": (
        "",
        "from shop.handlers import get_order\n\n\n"
        "def test_get_order_returns_the_currency():\n"
        '    assert get_order(1)["currency"] == "EUR"\n',
    ),
    "caller": (
        "from shop.client import fetch_order\n",
        "from shop.client import fetch_order, format_total\n",
    ),
}
REVISED: dict[str, tuple[str, str]] = {
    "client": (
        EDITS["client"][0],
        "    return handlers.get_order(order_id)\n\n\n"
        "def format_total(order: dict[str, object]) -> str:\n"
        "    return f\"{int(order['total_cents']) / 100:.2f} {order['currency']}\"\n",
    ),
}
#: A second edit of the caller: its body uses the new client function.
CALLER_BODY = (
    "    return f\"order {order['id']}: {int(order['total_cents']) / 100:.2f}\"\n",
    "    return f\"order {order['id']}: {format_total(order)}\"\n",
)
ORDER = [
    ("model", "the data model first: every other layer reads the new field"),
    ("handler", "the handler needs the field and feeds the client"),
    ("tests", "the handler's new response, tested as soon as it exists"),
    ("client", "the client formats what the handler returns"),
    ("caller", "the caller goes last: it uses the client's new function"),
]

_TASK = re.compile(r"# Task (\S+):")


def manager() -> FunctionModel:
    """Plans the feature: five tasks, dependencies, client and tests as a parallel group."""
    return script(
        Output(
            {
                "tasks": TASKS,
                "parallel_groups": [["client", "tests"]],
                "risks": ["callers that compare describe()'s text exactly"],
                "open_questions": ["should currencies other than EUR be stored?"],
            }
        ),
        name="scripted:feature-manager",
    )


def worker() -> FunctionModel:
    """Reads its file, makes its task's edit (the revised one when the reviewer sent feedback),
    then reports."""

    def task_and_revision(messages: list[ModelMessage]) -> tuple[str, bool]:
        text = _first_text(messages)
        found = _TASK.search(text)
        return (found.group(1) if found else "?"), "# Reviewer feedback" in text

    def read(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        task, _ = task_and_revision(messages)
        path = _path_of(task)
        return (
            Call("search", {"pattern": "def ", "path": "shop"})
            if task == "tests"
            else Call("read_file", {"path": path})
        )

    def edit(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        task, revised = task_and_revision(messages)
        search, replace = (REVISED if revised else EDITS).get(task, EDITS[task])
        calls = [Call("edit_file", {"path": _path_of(task), "search": search, "replace": replace})]
        if task == "caller":
            calls.append(
                Call(
                    "edit_file",
                    {"path": _path_of(task), "search": CALLER_BODY[0], "replace": CALLER_BODY[1]},
                )
            )
        return calls

    def report(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        task, revised = task_and_revision(messages)
        note = " (revised as the reviewer asked)" if revised else ""
        return Output(
            {
                "rationale": f"{_title_of(task)} in {_path_of(task)}{note}",
                "assumptions": ["amounts stay in cents; formatting is the client's job"],
            }
        )

    return script(read, edit, report, name="scripted:feature-worker")


def reviewer() -> FunctionModel:
    """Approves each patch hunk by hunk, except the client's patch without the currency, which
    it sends back; proposes the merge order with reasons when asked for a summary."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        schema = info.output_tools[0].parameters_json_schema.get("properties", {})
        if "decision" not in schema:
            return to_response(Output(_summary()), info)
        text = _first_text(messages)
        hunks = re.findall(r"## (\S+) hunk (\d+)", text)
        patch = text.split("# The patch", 1)[-1]
        lacking = f"# Task {REVISED_TASK}:" in text and "order['currency']" not in patch
        verdict: dict[str, Any] = {
            "decision": "revise" if lacking else "approve",
            "hunks": [{"path": p, "hunk": int(n), "ok": not lacking} for p, n in hunks],
            "reasons": ["the total lacks its currency"] if lacking else ["does what the task says"],
            "feedback": FEEDBACK if lacking else "",
        }
        return to_response(Output(verdict), info)

    from pydantic_ai.models.function import FunctionModel

    return FunctionModel(respond, model_name="scripted:feature-reviewer")


def _summary() -> dict[str, Any]:
    return {
        "summary": "Orders carry a currency from the model through the handler and the client "
        "to the caller, with a test of the handler's response.",
        "order": [{"task": t, "reason": r} for t, r in ORDER],
    }


def _path_of(task: str) -> str:
    return next(str(t["owned_paths"][0]) for t in TASKS if t["id"] == task)


def _title_of(task: str) -> str:
    return next(str(t["title"]) for t in TASKS if t["id"] == task)


def _first_text(messages: list[ModelMessage]) -> str:
    from crewchief.models.scripted import _first_request_text

    return _first_request_text(messages)
