"""The WorkerBackend and Planner seams, and the registry built-ins and plugins share."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from crewchief.errors import UserError
from crewchief.records import ChangeRequest, Plan, Task, WorkerResult
from crewchief.sandbox.runner import SandboxConfig


@dataclass(frozen=True)
class WorkContext:
    """Where and how one attempt runs. ``worktree`` is the only place a backend may write;
    ``sandbox`` is where the code it runs on the worker's behalf runs (a recipe's command, the
    LLM worker's checks; an agent's own template says its mode, this its bubblewrap)."""

    worktree: Path
    base_commit: str
    attempt_id: str
    timeout_s: float
    extra_instruction: str | None = None
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)


class WorkerBackend(Protocol):
    """Turns a task into edits inside ``ctx.worktree``; the dispatcher takes the diff afterwards.

    Implementations run inside the attempt's own process group, so any child process they start
    is killed with it on timeout or Ctrl-C. They return a WorkerResult without a patch.
    """

    name: str

    def run(self, task: Task, ctx: WorkContext) -> WorkerResult: ...


class Planner(Protocol):
    """Turns a ChangeRequest into a Plan for the repository at ``repo`` (its HEAD commit)."""

    name: str

    def plan(self, request: ChangeRequest, repo: Path) -> Plan: ...


@dataclass(frozen=True)
class Recipe:
    """A deterministic planner and worker pair: mechanical changes with no model at all."""

    name: str
    summary: str
    planner: Planner
    backend: WorkerBackend


RECIPE_GROUP = "crewchief.recipes"


def load_recipe(name: str) -> Recipe:
    """The recipe registered under ``name`` (built-ins register through entry points too)."""
    found = {ep.name: ep for ep in entry_points(group=RECIPE_GROUP)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise UserError(f"unknown recipe {name!r} (known: {known})")
    recipe = found[name].load()
    if not isinstance(recipe, Recipe):
        raise UserError(f"entry point {name!r} in {RECIPE_GROUP} is not a Recipe")
    return recipe


def recipe_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=RECIPE_GROUP))


BACKEND_GROUP = "crewchief.backends"


class BackendFactory(Protocol):
    """Builds the backend for ``<kind>:<name>`` from that backend's settings (a config table)."""

    def __call__(self, name: str, settings: dict[str, Any] | None = None) -> WorkerBackend: ...


def recipe_backend(name: str, settings: dict[str, Any] | None = None) -> WorkerBackend:
    """The worker half of recipe ``name`` (the ``recipe`` kind of backend)."""
    return load_recipe(name).backend


def backend_for(task: Task, settings: dict[str, Any] | None = None) -> WorkerBackend:
    """Resolve a task's ``backend`` string, ``<kind>:<name>``, through the ``crewchief.backends``
    entry points (``recipe``, ``agent``, ``llm`` are built in; plugins add kinds the same way)."""
    kind, _, name = task.backend.partition(":")
    found = {ep.name: ep for ep in entry_points(group=BACKEND_GROUP)}
    if kind not in found or not name:
        known = ", ".join(f"{k}:<name>" for k in sorted(found))
        raise UserError(f"task {task.id}: unknown backend {task.backend!r} (known: {known})")
    factory: BackendFactory = found[kind].load()
    return factory(name, settings)
