"""One pydantic-ai agent run, with its model calls and transcript kept whatever happens.

A run that fails (usage limit, timeout, malformed output after retries, an HTTP error after the
SDK's retries) still returns the calls it made and everything that was said, so budgets and the
ledger see them; the failure is a message, not an exception.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from crewchief.llm.prompts import Prompt
from crewchief.models import usage
from crewchief.models.pricing import Price
from crewchief.models.providers import build_model
from crewchief.records import ModelCall, Role, TranscriptEntry

if TYPE_CHECKING:
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage
    from pydantic_ai.models import Model
    from pydantic_ai.usage import UsageLimits

T = TypeVar("T")
#: Characters of an error's cause kept in the failure message.
MAX_CAUSE_CHARS = 500


@dataclass(frozen=True)
class AgentOutcome(Generic[T]):
    """The output (None when the run failed), what it cost, and what was said."""

    output: T | None
    error: str | None
    calls: tuple[ModelCall, ...]
    transcript: tuple[TranscriptEntry, ...]
    messages: tuple[ModelMessage, ...]


def _describe(error: Exception) -> str:
    """The error and its cause (a malformed output's validation error says what was wrong)."""
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__
    if cause is not None:
        detail = " ".join(str(cause).split())
        text += f" (last: {type(cause).__name__}: {detail[:MAX_CAUSE_CHARS]})"
    return text


class PerThreadModel:
    """A model string built once per thread: a provider's HTTP client belongs to the event loop
    of the thread that used it first, so a role called from several threads (executor threads)
    needs one client each. A ready model (tests) is shared as it is."""

    def __init__(self, model: str | Model) -> None:
        self._given = model
        self._local = threading.local()
        self.label, first = resolve(model)
        self._local.model = first

    def get(self) -> Model:
        model: Model | None = getattr(self._local, "model", None)
        if model is None:
            model = self._local.model = resolve(self._given)[1]
        return model


def resolve(model: str | Model) -> tuple[str, Model]:
    """(the label recorded in ModelCalls, the pydantic-ai model) for a model string (resolved by
    ``providers.build_model``) or a ready pydantic-ai model (tests)."""
    if isinstance(model, str):
        return model, build_model(model)
    return f"{model.system}:{model.model_name}", model


def _provider_errors() -> tuple[type[Exception], ...]:
    """The SDKs' own errors (connection refused, bad status after their retries), of the SDKs
    this process has loaded: a model that runs through an SDK has imported it by now, and one
    that does not (a scripted model) cannot raise its errors. Importing an SDK only to name its
    error would cost every planner, reviewer and worker process a second or more."""
    found: list[type[Exception]] = []
    for module in ("openai", "anthropic"):
        error = getattr(sys.modules.get(module), "APIError", None)
        if isinstance(error, type) and issubclass(error, Exception):
            found.append(error)
    return tuple(found)


def run_agent(
    agent: Agent[Any, T],
    prompt: Prompt,
    *,
    role: Role,
    model_label: str,
    prices: Mapping[str, Price],
    user: str | None = None,
    history: Sequence[ModelMessage] = (),
    usage_limits: UsageLimits | None = None,
    timeout_s: float | None = None,
) -> AgentOutcome[T]:
    """Run ``agent`` on ``user`` (default: the prompt's user message) after ``history``.

    The agent's instructions are the prompt's system text. Only errors of the run itself are
    caught (pydantic-ai's ``AgentRunError`` family); bugs in crewchief propagate.
    """
    from pydantic_ai import capture_run_messages
    from pydantic_ai.exceptions import AgentRunError

    output: T | None = None
    error: str | None = None
    handled: tuple[type[Exception], ...] = (AgentRunError, *_provider_errors())
    with capture_run_messages() as captured:
        try:
            result = agent.run_sync(
                user if user is not None else prompt.user,
                instructions=prompt.system,
                message_history=list(history) or None,
                usage_limits=usage_limits,
                timeout=timeout_s,
            )
            output, messages = result.output, result.all_messages()
        except handled as e:
            error, messages = _describe(e), list(captured)
        except RuntimeError as e:  # pydantic-ai's refusal when model requests are switched off
            if "ALLOW_MODEL_REQUESTS" not in str(e):
                raise
            error, messages = str(e), list(captured)
    new = messages[len(history) :]
    calls = usage.model_calls(
        new, role=role, model=model_label, prompt_digest=prompt.digest, prices=prices
    )
    return AgentOutcome(
        output=output,
        error=error,
        calls=tuple(calls),
        transcript=tuple(usage.transcript(new)),
        messages=tuple(messages),
    )
