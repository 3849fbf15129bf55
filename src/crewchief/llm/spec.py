"""What an LLM task carries to its worker process in ``Task.spec``: the worker's model and
limits, the symbols the task concerns, and the files it is allowed to create.

A worker runs in a child process that receives only the task (see ``crewchief.attempt``), so
everything it needs beyond the task's words travels here. It is part of the instruction digest.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from crewchief.errors import UserError
from crewchief.models.pricing import Price
from crewchief.records import Record, Risk, Task

BACKEND = "llm:worker"


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


def worker_spec(task: Task) -> WorkerSpec:
    """The WorkerSpec in ``task.spec``; UserError if it is missing or malformed."""
    try:
        return WorkerSpec.model_validate(task.spec.get("worker"))
    except ValidationError as e:
        raise UserError(f"task {task.id}: spec.worker is not a worker spec: {e}") from e


def new_files(task: Task) -> list[str]:
    """Files the task may create (declared by the planner)."""
    return [str(p) for p in _list(task, "new_files")]


def symbols(task: Task) -> list[str]:
    """Names or qualnames of the symbols the task concerns (may be empty)."""
    return [str(s) for s in _list(task, "symbols")]


def _list(task: Task, key: str) -> list[Any]:
    value = task.spec.get(key, [])
    return list(value) if isinstance(value, list) else []
