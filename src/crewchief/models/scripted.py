"""Scripted models: pydantic-ai FunctionModels that play a fixed script, for tests, benchmarks and
whole-pipeline runs without a provider.

``script(...)`` builds a model from steps (tool calls, a final structured output, text, or a
function of the conversation). ``appender`` is a ready scripted worker reachable by model string
(``scripted:crewchief.models.scripted:appender?line=…``), so a worker child process can build it.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models.function import AgentInfo, FunctionModel


@dataclass(frozen=True)
class Call:
    """The model calls ``tool`` with ``args``."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    """The model gives its final structured output (through the agent's output tool)."""

    args: dict[str, Any]


@dataclass(frozen=True)
class Text:
    """The model answers in plain text (malformed, where structured output is expected)."""

    text: str


Reply = Call | Output | Text | Sequence[Call]
Step = Reply | Callable[["list[ModelMessage]", "AgentInfo"], Reply]


class ScriptExhausted(AssertionError):
    """The model was asked for more turns than its script has."""


def script(
    *steps: Step, name: str = "scripted", delay: Callable[[], float] | None = None
) -> FunctionModel:
    """A model answering the n-th request with the n-th step; ``delay()`` seconds before each."""
    from pydantic_ai.models.function import FunctionModel

    lock, played = threading.Lock(), [0]

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        with lock:
            n = played[0]
            played[0] += 1
        if n >= len(steps):
            raise ScriptExhausted(f"{name}: asked for turn {n + 1}, script has {len(steps)}")
        if delay is not None:
            time.sleep(delay())
        step = steps[n]
        reply = step(messages, info) if callable(step) else step
        return to_response(reply, info)

    return FunctionModel(respond, model_name=name)


def to_response(reply: Reply, info: AgentInfo) -> ModelResponse:
    """A reply as the ModelResponse pydantic-ai expects."""
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart

    if isinstance(reply, Text):
        return ModelResponse(parts=[TextPart(reply.text)])
    if isinstance(reply, Output):
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, dict(reply.args))])
    calls = [reply] if isinstance(reply, Call) else list(reply)
    return ModelResponse(parts=[ToolCallPart(c.tool, dict(c.args)) for c in calls])


def lognormal_delay(median_s: float, sigma: float, seed: int) -> Callable[[], float]:
    """Latencies drawn from a lognormal distribution (model latency has a long right tail);
    always 0 when ``median_s`` is 0."""
    rng = random.Random(seed)
    if median_s <= 0:
        return lambda: 0.0
    return lambda: rng.lognormvariate(math.log(median_s), sigma)


#: The worker prompt's lines naming the owned paths and the task (llm/prompts/worker_*.j2).
_OWNED = re.compile(r"You may edit only these paths: (.+?)\. Edits")
_TASK = re.compile(r"# Task (\S+):")


def appender(
    line: str = "# touched by a scripted worker",
    median_ms: str = "0",
    sigma: str = "0.5",
    seed: str = "0",
    explore: str = "0",
) -> FunctionModel:
    """A scripted worker that puts ``line`` at the top of each file its task owns: it reads them,
    searches them ``explore`` more times, edits them, then reports. Latency per turn is lognormal
    around ``median_ms`` (seeded by ``seed`` and the task id), so parallel workers in separate
    processes differ. Parameters are strings: they come from a model string's query."""

    state: dict[str, Any] = {}

    def task_of(messages: list[ModelMessage]) -> tuple[str, list[str]]:
        text = _first_request_text(messages)
        owned = _OWNED.search(text)
        task = _TASK.search(text)
        paths = [p.strip() for p in owned.group(1).split(",")] if owned else []
        return (task.group(1) if task else "?"), [p for p in paths if not p.endswith("/")]

    def delay_for(messages: list[ModelMessage]) -> None:
        if float(median_ms) <= 0:
            return
        if "rng" not in state:
            digest = hashlib.sha256(f"{seed}:{task_of(messages)[0]}".encode()).digest()
            state["rng"] = random.Random(int.from_bytes(digest[:8], "big"))
        rng: random.Random = state["rng"]
        time.sleep(rng.lognormvariate(math.log(float(median_ms) / 1000), float(sigma)))

    def read(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        delay_for(messages)
        return [Call("read_file", {"path": p}) for p in task_of(messages)[1]]

    def search(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        delay_for(messages)
        return [Call("search", {"pattern": "def ", "path": p}) for p in task_of(messages)[1]]

    def edit(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        delay_for(messages)
        return [
            Call("edit_file", {"path": path, "search": text, "replace": f"{line}\n{text}"})
            for path, text in _files_read(messages).items()
        ]

    def report(messages: list[ModelMessage], info: AgentInfo) -> Reply:
        delay_for(messages)
        return Output({"rationale": f"added {line!r} at the top of each owned file"})

    return script(read, *[search] * int(explore), edit, report, name="scripted:appender")


_READ_HEADER = re.compile(r"^(\S+) lines \d+-\d+ of \d+$")
_NUMBERED = re.compile(r"^ *\d+  (.*)$")


def _files_read(messages: list[ModelMessage]) -> dict[str, str]:
    """path → text of every read_file result in the conversation (the numbering removed)."""
    from pydantic_ai.messages import ModelRequest, ToolReturnPart

    found: dict[str, str] = {}
    for message in messages:
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            if isinstance(part, ToolReturnPart) and part.tool_name == "read_file":
                header, _, body = str(part.content).partition("\n")
                match = _READ_HEADER.match(header)
                if match:
                    lines = [m.group(1) for m in map(_NUMBERED.match, body.split("\n")) if m]
                    found[match.group(1)] = "\n".join(lines)
    return found


def _first_request_text(messages: list[ModelMessage]) -> str:
    from pydantic_ai.messages import ModelRequest, UserPromptPart

    first = messages[0]
    assert isinstance(first, ModelRequest)
    texts = [first.instructions or ""]
    texts += [
        p.content
        for p in first.parts
        if isinstance(p, UserPromptPart) and isinstance(p.content, str)
    ]
    return "\n".join(texts)
