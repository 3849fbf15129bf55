"""The manager as planner: goal + project summary + symbol map → a validated Plan.

The model answers with a structured draft (pydantic-ai structured output). The draft is turned
into a Plan and checked mechanically; every violation goes back to the manager with its reason,
at most ``corrections`` times. Tasks that may run in parallel must own disjoint paths: for a
model's plan a predicted conflict is a violation, not a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from pydantic import BaseModel, Field, ValidationError

from crewchief.errors import PlanningFailed
from crewchief.llm import context, prompts
from crewchief.llm.agentrun import resolve, run_agent
from crewchief.llm.spec import BACKEND, WorkerSpec, task_spec
from crewchief.models.pricing import Price
from crewchief.records import (
    ChangeRequest,
    LandingGroup,
    ModelWork,
    Plan,
    Risk,
    Task,
)
from crewchief.run.plan import predicted_conflicts, validate
from crewchief.run.taskgraph import TaskGraph

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelMessage
    from pydantic_ai.models import Model

#: Longest answer the manager may give (a plan of many tasks is long).
MAX_OUTPUT_TOKENS = 16_000
#: Tokens of the symbol map shown to the manager.
MAP_TOKENS = 3000
#: Paths listed to the manager (focus first).
FILE_LIST_LIMIT = 400
#: Task ids become parts of attempt ids and git refs.
_TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
#: Checks run in a shell: one command with plain arguments, nothing chained or redirected.
_SHELL_META = re.compile(r"[;&|`$<>()\n\\]")


class TaskDraft(BaseModel):
    """One task as the manager writes it."""

    id: str = Field(description="Short unique id, e.g. t1")
    title: str
    instructions: str = Field(description="Exactly what the worker must change, and why")
    owned_paths: list[str] = Field(description="Files (or directories ending in /) it may change")
    new_files: list[str] = Field(default_factory=list, description="Owned files it must create")
    context_paths: list[str] = Field(default_factory=list, description="Files to read only")
    symbols: list[str] = Field(default_factory=list, description="Functions/classes it changes")
    depends_on: list[str] = Field(default_factory=list)
    risk: Risk = "low"
    acceptance_checks: list[str] = Field(default_factory=list)


class PlanDraft(BaseModel):
    """The manager's whole answer."""

    tasks: list[TaskDraft]
    parallel_groups: list[list[str]] = Field(default_factory=list)
    landing_groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Name → task ids that only make sense together (one rename across "
        "modules): tested and landed as one, whole or not at all",
    )
    files: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)


class LLMPlanner:
    """Implements the Planner seam with a manager model.

    ``plan`` returns the plan with the manager's calls and conversation as its ``work`` (a
    failure carries them on ``PlanningFailed``), for the driver to record; ``notes`` say what
    context was missing (no symbol map, and why).
    """

    def __init__(
        self,
        model: str | Model,
        worker: WorkerSpec,
        *,
        prices: Mapping[str, Price] | None = None,
        max_tasks: int = 20,
        corrections: int = 2,
        allowed_checks: Sequence[str] = (),
        output_retries: int = 2,
        backend: str = BACKEND,
    ) -> None:
        self.model_label, self._model = resolve(model)
        self.backend = backend
        self.name = f"llm:{self.model_label}"
        self.worker, self.prices = worker, prices or {}
        self.max_tasks, self.corrections = max_tasks, corrections
        self.allowed_checks, self.output_retries = tuple(allowed_checks), output_retries
        self.notes: list[str] = []

    def plan(self, request: ChangeRequest, repo: Path) -> Plan:
        """A plan that passes every mechanical check, with the manager's work; PlanningFailed
        (a RunError, with the work) if the manager cannot produce one within its corrections,
        or its output stays malformed."""
        from pydantic_ai import Agent

        self.notes, work = [], ModelWork()
        files = context.tracked_files(repo)
        prompt = self._prompt(request, repo, files)
        agent = Agent(
            self._model,
            output_type=PlanDraft,
            retries={"output": self.output_retries},
            model_settings={"max_tokens": MAX_OUTPUT_TOKENS},
        )
        user, history = prompt.user, cast("tuple[ModelMessage, ...]", ())
        for _ in range(self.corrections + 1):
            out = run_agent(
                agent,
                prompt,
                role="manager",
                model_label=self.model_label,
                prices=self.prices,
                user=user,
                history=history,
            )
            work = ModelWork(
                calls=work.calls + out.calls, transcript=work.transcript + out.transcript
            )
            if out.output is None:
                raise PlanningFailed(
                    f"the manager ({self.model_label}) gave no usable plan: {out.error}", work
                )
            plan, problems = self.to_plan(out.output, request, set(files))
            if plan is not None and not problems:
                return plan.model_copy(update={"work": work})
            user, history = prompts.render("planner_fix.j2", problems=problems), out.messages
        raise PlanningFailed(
            f"the manager's plan is still invalid after {self.corrections} corrections:\n  "
            + "\n  ".join(problems),
            work,
        )

    def _prompt(self, request: ChangeRequest, repo: Path, files: list[str]) -> prompts.Prompt:
        symbol_map, note = context.symbol_map(repo, request.focus, MAP_TOKENS)
        self.notes += [note] if note else []
        return prompts.render_pair(
            "planner",
            "planner_fix.j2",
            goal=request.goal,
            focus=list(request.focus),
            summary=context.project_summary(repo),
            symbol_map=symbol_map,
            files=context.file_list(files, request.focus, FILE_LIST_LIMIT),
            max_tasks=self.max_tasks,
            worker_risk_levels=list(self.worker.risk_levels),
            allowed_checks=list(self.allowed_checks),
        )

    def to_plan(
        self, draft: PlanDraft, request: ChangeRequest, files: set[str]
    ) -> tuple[Plan | None, list[str]]:
        """The draft as a Plan and every reason it cannot run (the Plan is None when a task is
        not even well-formed)."""
        tasks, problems = [], []
        for t in draft.tasks:
            try:
                tasks.append(self._task(t))
            except ValidationError as e:
                problems.append(f"task {t.id}: " + "; ".join(err["msg"] for err in e.errors()))
        if problems:
            return None, problems
        plan = Plan(
            goal=request.goal,
            planner=self.name,
            tasks=tuple(tasks),
            parallel_groups=tuple(tuple(g) for g in draft.parallel_groups),
            landing_groups=tuple(
                LandingGroup(name=n, tasks=tuple(ids)) for n, ids in draft.landing_groups.items()
            ),
            files=tuple(draft.files),
            risks=tuple(draft.risks),
            open_questions=tuple(draft.open_questions),
        )
        return plan, check_plan(plan, draft, files, self.max_tasks, self.allowed_checks)

    def _task(self, t: TaskDraft) -> Task:
        return Task(
            id=t.id,
            title=t.title,
            instructions=t.instructions,
            owned_paths=tuple(t.owned_paths),
            context_paths=tuple(t.context_paths),
            depends_on=tuple(t.depends_on),
            risk=t.risk,
            checks=tuple(t.acceptance_checks),
            backend=self.backend,
            spec=task_spec(self.worker, t.symbols, t.new_files),
        )


def check_plan(
    plan: Plan, draft: PlanDraft, files: set[str], max_tasks: int, allowed_checks: Sequence[str]
) -> list[str]:
    """Every mechanical reason a model's plan cannot run: the spine's ``validate``, predicted
    conflicts, paths that neither exist nor are declared new, malformed parallel groups, and
    acceptance checks that are not the project's commands."""
    problems = validate(plan, max_tasks) + predicted_conflicts(plan)
    problems += [
        f"task id {t.id!r} must be 1-40 letters, digits, _ or -"
        for t in plan.tasks
        if not _TASK_ID.fullmatch(t.id)
    ]
    if any("depends on unknown" in p for p in problems):
        return problems  # the ancestry checks below need known dependencies
    for t in draft.tasks:
        problems += _path_problems(t, files)
        problems += [
            f"task {t.id}: acceptance check {c!r} is not one of the project's commands "
            f"({'; '.join(allowed_checks) or 'none configured'}) with plain arguments"
            for c in t.acceptance_checks
            if _SHELL_META.search(c)
            or not any(c == a or c.startswith(a + " ") for a in allowed_checks)
        ]
    return problems + _group_problems(plan)


def _path_problems(t: TaskDraft, files: set[str]) -> list[str]:
    def exists(path: str) -> bool:
        return path in files or (path.endswith("/") and any(f.startswith(path) for f in files))

    problems = [
        f"task {t.id}: owns {p}, which does not exist and is not in new_files"
        for p in t.owned_paths
        if not exists(p)
        and p not in t.new_files
        and not (p.endswith("/") and any(n.startswith(p) for n in t.new_files))
    ]
    problems += [f"task {t.id}: new file {p} already exists" for p in t.new_files if p in files]
    problems += [
        f"task {t.id}: new file {p} is not in its owned_paths"
        for p in t.new_files
        if not any(p == o or (o.endswith("/") and p.startswith(o)) for o in t.owned_paths)
    ]
    problems += [
        f"task {t.id}: context path {p} does not exist" for p in t.context_paths if not exists(p)
    ]
    return problems


def _group_problems(plan: Plan) -> list[str]:
    ids = {t.id for t in plan.tasks}
    problems = []
    graph = TaskGraph.of(plan)
    for n, group in enumerate(plan.parallel_groups, 1):
        unknown = [i for i in group if i not in ids]
        if unknown:
            problems.append(f"parallel group {n} names unknown task(s) {', '.join(unknown)}")
            continue
        problems += [
            f"parallel group {n}: {a} depends on {b}, so they cannot run at the same time"
            for a in group
            for b in group
            if b in graph.ancestors(a)
        ]
    return problems
