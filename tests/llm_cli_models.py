"""Scripted manager and reviewer models reachable by model string from the CLI's processes
(``scripted:llm_cli_models:<factory>``; the tests put this folder on PYTHONPATH)."""

from __future__ import annotations

import re
from typing import Any

from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, FunctionModel

from crewchief.models.scripted import Output, script, to_response


def manager() -> FunctionModel:
    """Plans two independent tasks on the test project, with a risk and an open question."""
    tasks = [
        {
            "id": "t1",
            "title": "mark alpha",
            "instructions": "Mark the module as reviewed.",
            "owned_paths": ["alpha/a.py"],
            "risk": "low",
        },
        {
            "id": "t2",
            "title": "mark beta",
            "instructions": "Mark the module as reviewed.",
            "owned_paths": ["beta/b.py"],
            "risk": "medium",
        },
    ]
    return script(
        Output(
            {
                "tasks": tasks,
                "parallel_groups": [["t1", "t2"]],
                "risks": ["comments only"],
                "open_questions": ["gamma too?"],
            }
        ),
        name="scripted:manager",
    )


def reviewer() -> FunctionModel:
    """Approves every hunk it is shown; summarizes the change set when asked to."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> Any:
        schema = info.output_tools[0].parameters_json_schema.get("properties", {})
        if "decision" in schema:
            hunks = re.findall(r"## (\S+) hunk (\d+)", str(messages[0]))
            reply = Output(
                {
                    "decision": "approve",
                    "hunks": [{"path": p, "hunk": int(n), "ok": True} for p, n in hunks],
                }
            )
        else:
            reply = Output(
                {
                    "summary": "Two modules marked as reviewed.",
                    "order": [
                        {"task": "t2", "reason": "beta first"},
                        {"task": "t1", "reason": "then alpha"},
                    ],
                }
            )
        return to_response(reply, info)

    return FunctionModel(respond, model_name="scripted:reviewer")
