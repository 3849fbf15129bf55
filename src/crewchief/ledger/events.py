"""The ledger's events, one typed payload per kind: a discriminated union on ``kind``.

Every event is checked against its kind's payload when it is written (``Ledger._event``): an
event whose data does not fit is a bug in crewchief, and it raises before anything is stored.
Reads get the same type back (``Event.payload``). The stored JSON is the payload without its
``kind`` (that is a column of its own), so ledgers written before this module read the same.
``python -m crewchief.ledger.schemas`` publishes the union's JSON Schema with the views'.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from crewchief.lifecycle import RunState, TaskState
from crewchief.records import ModelCall


class _Payload(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        defer_build=True,  # built when first used: the CLI's start-up does not pay for them
    )


class RunCreated(_Payload):
    kind: Literal["run_created"] = "run_created"
    base: str
    target: str
    goal: str | None = None


class PlanRecorded(_Payload):
    kind: Literal["plan_recorded"] = "plan_recorded"
    version: int
    tasks: int
    planner: str


class RunStateChanged(_Payload):
    """A run moved along its lifecycle; the rest says why, who, or how it landed."""

    kind: Literal["run_state"] = "run_state"
    old: RunState = Field(alias="from")
    new: RunState = Field(alias="to")
    reason: str | None = None
    who: str | None = None
    held: bool | None = None
    how: str | None = None
    target: str | None = None
    from_commit: str | None = None
    to_commit: str | None = None


class TaskStateChanged(_Payload):
    """A task moved along its lifecycle; the rest says why (``reason``, ``reasons`` of a
    rejection, ``because`` of a block), who, which attempt or on which tip it conflicted."""

    kind: Literal["task_state"] = "task_state"
    old: TaskState = Field(alias="from")
    new: TaskState = Field(alias="to")
    reason: str | None = None
    reasons: list[str] | None = None
    because: str | None = None
    who: str | None = None
    attempt: str | None = None
    tip: str | None = None
    output: str | None = None


class AttemptStarted(_Payload):
    kind: Literal["attempt_started"] = "attempt_started"
    number: int
    base: str
    backend: str


class AttemptFinished(_Payload):
    kind: Literal["attempt_finished"] = "attempt_finished"
    status: str
    patch: str | None = Field(
        None,
        description="The patch's digest in the ledger (None: no change).",
    )
    duration_s: float = 0.0


class CheckRecorded(_Payload):
    """A gate check or a suite run. Its own kind (fast, acceptance, suite …) is stored as
    ``kind`` in the event's data, where the event's kind is a column: here it is ``of_kind``."""

    kind: Literal["check"] = "check"
    name: str
    of_kind: str
    passed: bool
    commit: str | None = None


class VerdictRecorded(_Payload):
    kind: Literal["verdict"] = "verdict"
    decision: str
    reviewer: str
    reasons: list[str] = []


class Integrated(_Payload):
    kind: Literal["integrated"] = "integrated"
    build: int
    tip: str
    tasks: list[str]


class Approval(_Payload):
    kind: Literal["approval"] = "approval"
    decision: str
    who: str
    comment: str | None = None


class PredictedConflict(_Payload):
    kind: Literal["predicted_conflict"] = "predicted_conflict"
    detail: str


class MergeStepData(_Payload):
    task: str
    reason: str


class ManagerSummary(_Payload):
    kind: Literal["manager_summary"] = "manager_summary"
    summary: str
    order: list[MergeStepData]


class ModelCallRecorded(ModelCall):
    """One model request: the call as ``records.ModelCall`` has it."""

    kind: Literal["model_call"] = "model_call"


class Paused(_Payload):
    """The run paused: a budget was reached, or a model gave no answer."""

    kind: Literal["budget_stop", "model_error"]
    reason: str


class ResumeRequested(_Payload):
    kind: Literal["resume_requested"] = "resume_requested"
    who: str
    pid: int | None = None


class Transcript(_Payload):
    kind: Literal["transcript"] = "transcript"
    role: str
    entries: list[dict[str, JsonValue]]


class SecretFinding(_Payload):
    path: str
    line: int
    kind: str


class HeldForPerson(_Payload):
    """A task a person must decide on: a secret in its patch, or a risk no worker may take."""

    kind: Literal["held_for_person"] = "held_for_person"
    reason: str | None = None
    risk: str | None = None
    findings: list[SecretFinding] = []


class ConfigChanged(_Payload):
    kind: Literal["config_changed"] = "config_changed"
    run_budget_usd: float | None = None
    task_budget_usd: float | None = None


class SandboxOff(_Payload):
    kind: Literal["sandbox_off"] = "sandbox_off"
    unsandboxed: list[str]


class SurvivorsKilled(_Payload):
    kind: Literal["survivors_killed"] = "survivors_killed"
    count: int


class MergeIntent(_Payload):
    """The target branch is about to move (``intended``); then it did or it did not."""

    kind: Literal["merge_intent"] = "merge_intent"
    state: Literal["intended", "landed", "void"]
    target: str
    from_commit: str
    to_commit: str
    who: str
    tasks: list[str] | None = None


class ReviewRequested(_Payload):
    kind: Literal["review_requested"] = "review_requested"


class HostVerdict(_Payload):
    kind: Literal["host_verdict"] = "host_verdict"
    verdict: dict[str, JsonValue]
    host: str | None = None


class SuiteFlaky(_Payload):
    kind: Literal["suite_flaky"] = "suite_flaky"
    commit: str
    first: str
    second: str


class SuiteTrust(_Payload):
    kind: Literal["suite_trust"] = "suite_trust"
    tree: str
    trusted: bool
    problem: str | None = None
    probe_cached: bool = False
    probed: bool = False
    broken: list[str] = []


class RunCancelled(_Payload):
    kind: Literal["run_cancelled"] = "run_cancelled"
    who: str
    tasks: list[str]


class Queued(_Payload):
    """Work entered the merge queue (``tasks`` built on ``tip``), or was held to the end."""

    kind: Literal["queued"] = "queued"
    tasks: list[str] | None = None
    tip: str | None = None
    held: list[str] | None = None
    until: str | None = None


class Landed(_Payload):
    kind: Literal["landed"] = "landed"
    from_: str = Field(alias="from")
    to: str
    tasks: list[str]
    who: str


EventPayload = Annotated[
    RunCreated
    | PlanRecorded
    | RunStateChanged
    | TaskStateChanged
    | AttemptStarted
    | AttemptFinished
    | CheckRecorded
    | VerdictRecorded
    | Integrated
    | Approval
    | PredictedConflict
    | ManagerSummary
    | ModelCallRecorded
    | Paused
    | ResumeRequested
    | Transcript
    | HeldForPerson
    | ConfigChanged
    | SandboxOff
    | SurvivorsKilled
    | MergeIntent
    | ReviewRequested
    | HostVerdict
    | SuiteFlaky
    | SuiteTrust
    | RunCancelled
    | Queued
    | Landed,
    Field(discriminator="kind"),
]


@functools.cache
def adapter() -> TypeAdapter[EventPayload]:
    """The union's validator, built once, when the first event is written or read."""
    return TypeAdapter(EventPayload)


def payload(kind: str, data: Mapping[str, JsonValue]) -> EventPayload:
    """The typed payload of an event of ``kind`` with ``data`` (pydantic's ValidationError
    when the data does not fit the kind)."""
    body = dict(data)
    if "kind" in body:  # a check's own kind
        body["of_kind"] = body.pop("kind")
    return adapter().validate_python({**body, "kind": kind})
