"""Model calls as records: pydantic-ai messages → ModelCall (tokens, latency, cost, prompt digest)
and TranscriptEntry (exactly what was sent and received, secrets redacted).

Works on plain message lists, so it serves a finished run (``result.all_messages()``) and a run
that raised (``capture_run_messages()``) alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crewchief.ledger.redact import redact
from crewchief.models.pricing import Price, cost
from crewchief.records import ModelCall, Role, TranscriptEntry, Usage

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelMessage, ModelResponse


def model_calls(
    messages: Sequence[ModelMessage],
    *,
    role: Role,
    model: str,
    prompt_digest: str,
    prices: Mapping[str, Price],
) -> list[ModelCall]:
    """One ModelCall per model response in ``messages``.

    Latency is from the request's local send time to the response's local receive time (both
    stamped by pydantic-ai); ``at`` is the response's receive time (Unix seconds).
    """
    from pydantic_ai.messages import ModelRequest, ModelResponse

    calls: list[ModelCall] = []
    sent_at: float | None = None
    for message in messages:
        if isinstance(message, ModelRequest):
            sent_at = message.timestamp.timestamp() if message.timestamp else None
        elif isinstance(message, ModelResponse):
            calls.append(_call(message, sent_at, role, model, prompt_digest, prices))
            sent_at = None
    return calls


def _call(
    response: ModelResponse,
    sent_at: float | None,
    role: Role,
    model: str,
    prompt_digest: str,
    prices: Mapping[str, Price],
) -> ModelCall:
    usage = response.usage
    measured = not usage.unmeasured_requests
    tokens_in = usage.input_tokens if measured else None
    tokens_out = usage.output_tokens if measured else None
    cached = usage.cache_read_tokens if measured else None
    at = response.timestamp.timestamp()
    return ModelCall(
        role=role,
        model=model,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cached_tokens=cached,
        latency_s=max(0.0, at - sent_at) if sent_at is not None else 0.0,
        cost_usd=cost(model, tokens_in, tokens_out, cached, prices),
        prompt_digest=prompt_digest,
        at=at,
    )


def total(calls: Sequence[ModelCall], model: str | None = None) -> Usage:
    """The sum of ``calls``; a field is None when any call could not tell it."""

    def add(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(v or 0 for v in values)

    costs = [c.cost_usd for c in calls]
    return Usage(
        model=model,
        input_tokens=add([c.input_tokens for c in calls]),
        output_tokens=add([c.output_tokens for c in calls]),
        cached_tokens=add([c.cached_tokens for c in calls]),
        cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
    )


def transcript(messages: Sequence[ModelMessage]) -> list[TranscriptEntry]:
    """Every prompt, tool call, tool result and response in order, secrets redacted.

    Instructions (the system prompt) appear once, and again only when they change.
    """
    from pydantic_ai.messages import ModelRequest

    entries: list[TranscriptEntry] = []
    instructions: str | None = None
    for message in messages:
        if isinstance(message, ModelRequest):
            if message.instructions and message.instructions != instructions:
                instructions = message.instructions
                entries.append(_entry("system", instructions))
            entries += [e for part in message.parts if (e := _request_entry(part)) is not None]
        else:
            entries += [e for part in message.parts if (e := _response_entry(part)) is not None]
    return entries


def _request_entry(part: Any) -> TranscriptEntry | None:
    from pydantic_ai.messages import (
        RetryFeedbackPart,
        SystemPromptPart,
        ToolReturnPart,
        UserPromptPart,
    )

    if isinstance(part, SystemPromptPart):
        return _entry("system", part.content)
    if isinstance(part, UserPromptPart):
        content = part.content
        return _entry("prompt", content if isinstance(content, str) else str(content))
    if isinstance(part, ToolReturnPart):
        kind = "error" if part.outcome == "retried" else "tool_result"
        return _entry(kind, part.model_response_str(), part.tool_name)
    if isinstance(part, RetryFeedbackPart):
        content = part.content if isinstance(part.content, str) else dumps(part.content)
        return _entry("error", content)
    return None


def _response_entry(part: Any) -> TranscriptEntry | None:
    from pydantic_ai.messages import TextPart, ToolCallPart

    if isinstance(part, TextPart):
        return _entry("response", part.content)
    if isinstance(part, ToolCallPart):
        return _entry("tool_call", part.args_as_json_str(), part.tool_name)
    return None


def _entry(kind: Any, content: str, tool: str | None = None) -> TranscriptEntry:
    return TranscriptEntry(kind=kind, content=redact(content), tool=tool)


def dumps(value: object) -> str:
    """Stable JSON for transcript text (sorted keys, no ASCII escaping)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
