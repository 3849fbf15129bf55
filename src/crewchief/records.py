"""Typed records that flow through a run. Frozen; the ledger stores them as JSON.

Paths in records are repository-relative POSIX paths. An owned path that ends in ``/`` owns the
whole directory below it; any other owned path owns exactly that file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator
from pydantic.json_schema import SkipJsonSchema

Risk = Literal["low", "medium", "high"]
CheckKind = Literal[
    "scope",
    "policy",
    "apply",
    "fast",
    "acceptance",
    "suite",
    "review",
    # the suite's trust checks: red then green on one commit; the base; the sensitivity probe
    "suite_flaky",
    "suite_base",
    "suite_probe",
]
Decision = Literal["approve", "revise", "reject"]
WorkerStatus = Literal["ok", "error", "timeout", "cancelled"]


class Record(BaseModel):
    """Base of every record: frozen, unknown fields refused, bytes as base64 in JSON. Each
    record's validator is built when it is first used (``defer_build``), not at import: a
    command pays only for the records it touches."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        ser_json_bytes="base64",
        val_json_bytes="base64",
        defer_build=True,
    )


class ChangeRequest(Record):
    """What a person asked for: a goal in words or a recipe with its arguments."""

    goal: str
    recipe: str | None = None
    recipe_args: dict[str, JsonValue] = Field(default_factory=dict)
    focus: tuple[str, ...] = ()


def owned_by(owned: Sequence[str], path: str) -> bool:
    """The one ownership rule: ``path`` is one of ``owned``, or inside one of its directories
    (an owned path ending in ``/``). The gate, the tools and the planner all ask this."""
    return any(path == o or (o.endswith("/") and path.startswith(o)) for o in owned)


class Task(Record):
    """One bounded piece of work: who may touch what, after what, checked how."""

    id: str
    title: str
    instructions: str
    owned_paths: tuple[str, ...]
    context_paths: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    risk: Risk = "low"
    checks: tuple[str, ...] = ()
    backend: str
    spec: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("owned_paths", "context_paths")
    @classmethod
    def _relative_posix(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for p in paths:
            if not p or p.startswith("/") or "\\" in p or ".." in p.split("/"):
                raise ValueError(f"path {p!r} must be repository-relative POSIX without '..'")
        return paths

    def owns(self, path: str) -> bool:
        """Whether ``path`` lies inside this task's owned paths (``owned_by``)."""
        return owned_by(self.owned_paths, path)

    def instruction_digest(self) -> str:
        """sha256 of the exact instruction a worker receives (the task as JSON, sorted keys)."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()


class LandingGroup(Record):
    """Tasks that only make sense together (one rename across modules, a schema change and its
    callers): the suite judges them as one, and they land whole or not at all."""

    name: str
    tasks: tuple[str, ...]


class Usage(Record):
    """Tokens and cost of the model calls behind one result; None means the backend can't tell."""

    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None


Role = Literal["manager", "worker", "reviewer"]


class ModelCall(Record):
    """One request to a model: who asked, which model, what it cost, which prompt template."""

    role: Role
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    latency_s: float = 0.0
    cost_usd: float | None = None
    prompt_digest: str = ""
    at: float = 0.0


class TranscriptEntry(Record):
    """One step of an agent's conversation, exactly as sent or received (secrets redacted)."""

    kind: Literal["system", "prompt", "tool_call", "tool_result", "response", "error"]
    content: str
    tool: str | None = None


class WorkerResult(Record):
    """What one attempt produced: the patch (``git diff --binary`` bytes) and why."""

    status: WorkerStatus
    patch: bytes = b""
    rationale: str = ""
    assumptions: tuple[str, ...] = ()
    log: str = ""
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    calls: tuple[ModelCall, ...] = ()
    transcript: tuple[TranscriptEntry, ...] = ()
    duration_s: float = 0.0

    def patch_digest(self) -> str:
        return hashlib.sha256(self.patch).hexdigest()


class CheckResult(Record):
    """One gate check on one attempt (or the full suite on an integration commit)."""

    name: str
    kind: CheckKind
    passed: bool
    output: str = ""
    duration_s: float = 0.0


class HunkVerdict(Record):
    path: str
    hunk: int
    ok: bool
    note: str = ""


class ModelWork(Record):
    """What a model did to give one result: its calls and its conversation. A result that
    came from a model carries its work (as ``WorkerResult.calls`` does); nothing is drained
    from the model's object afterwards."""

    calls: tuple[ModelCall, ...] = ()
    transcript: tuple[TranscriptEntry, ...] = ()


class Plan(Record):
    """A manager's (or a recipe's) breakdown of a ChangeRequest. ``work`` is the manager's
    calls and conversation that made it (none for a recipe's plan or one given as JSON); the
    ledger records it apart, so it is not part of the plan's JSON (nor of its schema, and a
    plan's JSON that names it is refused: only a planner says what planning cost)."""

    goal: str
    planner: str
    tasks: tuple[Task, ...]
    parallel_groups: tuple[tuple[str, ...], ...] = ()
    landing_groups: tuple[LandingGroup, ...] = ()
    files: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    open_questions: tuple[str, ...] = ()
    work: SkipJsonSchema[ModelWork] = Field(default_factory=ModelWork, exclude=True)

    @field_validator("work", mode="before")
    @classmethod
    def _work_not_from_json(cls, value: object, info: ValidationInfo) -> object:
        if info.mode == "json":
            raise ValueError("work is not part of a plan's JSON")
        return value

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)


class Verdict(Record):
    """A reviewer's decision on one attempt. ``work`` is the model reviewer's calls and
    conversation for it (none for the rules); the ledger records it apart, so it is not
    part of the verdict's JSON."""

    decision: Decision
    reviewer: str
    reasons: tuple[str, ...] = ()
    feedback: str | None = None
    hunks: tuple[HunkVerdict, ...] = ()
    work: ModelWork = Field(default_factory=ModelWork, exclude=True)


class Attempt(Record):
    """One try at a task, at one base commit, by one backend."""

    id: str
    run_id: str
    task_id: str
    number: int
    base_commit: str
    backend: str
    extra_instruction: str | None = None


EventKind = Literal[
    "run_created",
    "plan_recorded",
    "run_state",
    "task_state",
    "attempt_started",
    "attempt_finished",
    "check",
    "verdict",
    "integrated",
    "approval",
    "predicted_conflict",
    "manager_summary",
    "model_call",
    "budget_stop",
    "resume_requested",
    "transcript",
    "held_for_person",
    "config_changed",
    "sandbox_off",
    "survivors_killed",
    "merge_intent",
    "review_requested",
    "host_verdict",
    "suite_flaky",
    "suite_trust",
    "model_error",
    "run_cancelled",
    "queued",
    "landed",
]


class Event(Record):
    """One ledger event: append-only; every view and every resume is a query over these."""

    seq: int
    run_id: str
    kind: EventKind
    at: float
    task_id: str | None = None
    attempt_id: str | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)
