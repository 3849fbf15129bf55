"""What an LLM task carries to its worker process in ``Task.spec``: the worker's model and
limits, the symbols the task concerns, and the files it is allowed to create.

A worker runs in a child process that receives the task and its backend's settings (see
``crewchief.attempts.body``): the settings (the configuration at dispatch time) override the model
and limits the planner wrote here. The spec is part of the instruction digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError

from crewchief.errors import UserError
from crewchief.models.pricing import Price, price_for, price_table
from crewchief.records import Record, Risk, Task

BACKEND = "llm:worker"
#: Job settings that override the planner's worker spec.
_SETTINGS = ("model", "max_steps", "token_budget", "risk_levels")


class WorkerSpec(Record):
    """The worker's model, its per-attempt limits, and which risk levels it may take on."""

    model: str
    max_steps: int = Field(default=30, ge=1)
    token_budget: int = Field(default=200_000, ge=1)
    context_tokens: int = Field(default=4000, ge=0)
    price: Price | None = None
    risk_levels: tuple[Risk, ...] = ("low", "medium")


def task_spec(worker: WorkerSpec, symbols: list[str], new_files: list[str]) -> dict[str, Any]:
    """``Task.spec`` for an LLM task."""
    return {
        "worker": worker.model_dump(mode="json"),
        "symbols": list(symbols),
        "new_files": list(new_files),
    }


def worker_spec(task: Task, settings: Mapping[str, Any] | None = None) -> WorkerSpec:
    """The worker's spec: the planner's ``task.spec["worker"]``, with the dispatcher's job
    ``settings`` (``model``, ``max_steps``, ``token_budget``, ``risk_levels``, ``prices``: the
    configuration at dispatch time) on top. UserError if no model is set or a value is malformed."""
    planned = task.spec.get("worker")
    fields: dict[str, Any] = dict(planned) if isinstance(planned, dict) else {}
    settings = settings or {}
    fields.update({k: settings[k] for k in _SETTINGS if settings.get(k) is not None})
    if settings.get("prices") and fields.get("model"):
        table = price_table(settings["prices"])
        fields["price"] = price_for(fields["model"], table) or fields.get("price")
    if not fields.get("model"):
        raise UserError(f"task {task.id}: no worker model: set worker_model")
    try:
        return WorkerSpec.model_validate(fields)
    except ValidationError as e:
        raise UserError(f"task {task.id}: bad worker settings: {e}") from e


def new_files(task: Task) -> list[str]:
    """Files the task may create (declared by the planner)."""
    return [str(p) for p in _list(task, "new_files")]


def symbols(task: Task) -> list[str]:
    """Names or qualnames of the symbols the task concerns (may be empty)."""
    return [str(s) for s in _list(task, "symbols")]


def _list(task: Task, key: str) -> list[Any]:
    value = task.spec.get(key, [])
    return list(value) if isinstance(value, list) else []
