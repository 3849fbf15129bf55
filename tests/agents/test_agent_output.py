"""What crewchief reads from each CLI's real output: rationale, assumptions, usage and cost
(unknown, never a false $0), and the CLI's own error; and the give-up watch on retry lines."""

from __future__ import annotations

import json

import pytest
from agent_harness import MODES, Repo

from crewchief.backends.agent_output import parse_output

AIDER_OUT = b"""Aider v0.86.2
Model: openai/m with diff edit format
alpha/a.py
```python
<<<<<<< SEARCH
def f(v):
=======
def f(v):
    \"\"\"Doc.\"\"\"
>>>>>>> REPLACE
```

Added a docstring to f.
ASSUMPTION: one line is enough

Tokens: 2.1k sent, 46 received.
Applied edit to alpha/a.py
"""


def test_aider_rationale_is_the_models_reply_after_its_edit_blocks() -> None:
    out = parse_output("aider", AIDER_OUT)
    assert out.message == "Added a docstring to f.\nASSUMPTION: one line is enough"
    assert (out.usage.input_tokens, out.usage.output_tokens) == (2100, 46)
    assert out.usage.cost_usd is None  # aider printed no Cost: it has no price for the model


def test_mini_counts_an_unpriced_model_as_unknown_not_free() -> None:
    trajectory = {
        "info": {"model_stats": {"instance_cost": 0.0, "api_calls": 3}},
        "messages": [{"role": "assistant", "content": "Done.\nASSUMPTION: x"}],
    }
    out = parse_output("mini", b"", json.dumps(trajectory).encode())
    assert out.message == "Done.\nASSUMPTION: x" and out.usage.cost_usd is None


def test_opencode_zero_cost_is_unknown_and_its_error_event_is_the_error() -> None:
    events = [
        {"type": "text", "part": {"type": "text", "text": "Done."}},
        {"type": "step_finish", "part": {"type": "step-finish", "cost": 0, "tokens": {"input": 9}}},
    ]
    out = parse_output("opencode-jsonl", "\n".join(map(json.dumps, events)).encode())
    assert out.message == "Done." and out.usage.cost_usd is None and not out.failed
    error = {"type": "error", "error": {"name": "APIError", "data": {"message": "Cannot connect"}}}
    failed = parse_output("opencode-jsonl", json.dumps(error).encode())
    assert failed.failed and failed.error == "Cannot connect"


@pytest.mark.parametrize("mode", MODES)
def test_a_cli_that_keeps_reconnecting_is_stopped_at_once_with_its_line(
    repo: Repo, mode: str
) -> None:
    out = repo.run_agent(
        "reconnecting.py", mode=mode, timeout_s=120.0, give_up_on=r"Reconnecting\.\.\.",
        output="codex-jsonl",
    )  # fmt: skip
    assert out.result.status == "error"  # not "timeout"
    assert out.result.error is not None and "Reconnecting... (Connection failed" in out.result.error
