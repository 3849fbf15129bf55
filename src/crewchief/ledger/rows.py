"""The ledger's rows as frozen, typed records: what ``LedgerReader`` hands out instead of
``sqlite3.Row`` (one class per table read whole; its fields are the table's columns)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from typing import Any, Self

from crewchief.lifecycle import RunState


class _Row:
    @classmethod
    def of(cls, row: sqlite3.Row) -> Self:
        """The record of ``row`` (a ``SELECT *`` of its table); unknown columns are an error."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        data: dict[str, Any] = {k: row[k] for k in row.keys()}  # noqa: SIM118 (a Row iterates values)
        unknown = set(data) - names
        if unknown:
            raise TypeError(f"{cls.__name__} has no field for column(s) {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True, slots=True)
class RunRow(_Row):
    """A run: its request, where it started, where it lands, and how far it got."""

    id: str
    created_at: float
    request_json: str
    base_commit: str
    target_branch: str
    state: RunState
    config_json: str
    integration_commit: str | None
    suite_passed: int | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", RunState(self.state))


@dataclass(frozen=True, slots=True)
class AttemptRow(_Row):
    """One try at a task; ``result_json`` and ``patch_digest`` once it finished, ``patch_tree``
    the gate's tree of its patch on ``base_commit`` (when kept)."""

    id: str
    run_id: str
    task_id: str
    number: int
    base_commit: str
    backend: str
    extra_instruction: str | None
    started_at: float
    ended_at: float | None
    status: str | None
    result_json: str | None
    patch_digest: str | None
    patch_tree: str | None = None


@dataclass(frozen=True, slots=True)
class StoredCheck(_Row):
    """A gate check of an attempt, or a suite run on an integration commit (``commit_id``)."""

    id: int
    run_id: str
    task_id: str | None
    attempt_id: str | None
    commit_id: str | None
    name: str
    kind: str
    passed: int
    output: str
    duration_s: float
    at: float


@dataclass(frozen=True, slots=True)
class IntegrationRow(_Row):
    """One commit of an integration build, at ``position`` in merge order."""

    id: int
    run_id: str
    build: int
    position: int
    task_id: str
    attempt_id: str
    commit_id: str
    at: float


@dataclass(frozen=True, slots=True)
class ApprovalRow(_Row):
    """A person's decision on a task (or on the run, ``task_id`` None)."""

    id: int
    run_id: str
    task_id: str | None
    decision: str
    who: str
    comment: str
    at: float
