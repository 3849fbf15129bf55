"""The LLM worker backend (``llm:worker``): a pydantic-ai agent editing one task's files.

The agent's tools are confined to the attempt's worktree and the task's owned paths (see
``tools``). Each attempt is bounded by the task's step limit and token budget and by the
attempt's wall clock. The result carries every model call and the exact transcript; the driver,
not this (child) process, writes them to the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from crewchief.backends.base import WorkContext, WorkerBackend
from crewchief.errors import UserError
from crewchief.llm import context, prompts
from crewchief.llm.agentrun import AgentOutcome, resolve, run_agent
from crewchief.llm.spec import WorkerSpec, new_files, symbols, worker_spec
from crewchief.llm.tools import WorktreeTools, restore_scope
from crewchief.models import usage
from crewchief.models.pricing import Price
from crewchief.records import Task, WorkerResult

if TYPE_CHECKING:
    from pydantic_ai.models import Model

#: Share of the attempt's wall clock the agent may use; the rest returns its result in time.
WALL_CLOCK_SHARE = 0.9
#: Longest single answer of the worker (an edit of a large block fits).
MAX_OUTPUT_TOKENS = 8000
#: Malformed final reports the model may send again before the attempt fails.
OUTPUT_RETRIES = 2


class WorkerReport(BaseModel):
    """The worker's output contract, given after its edits."""

    rationale: str = Field(description="What you changed and why, in a few sentences")
    assumptions: list[str] = Field(default_factory=list)
    checks_run: list[str] = Field(default_factory=list, description="Checks you ran")


def llm_backend(name: str, settings: dict[str, Any] | None = None) -> WorkerBackend:
    """The ``llm`` kind of backend (entry point ``crewchief.backends``): ``llm:worker``."""
    if name != "worker":
        raise UserError(f"unknown backend llm:{name} (known: llm:worker)")
    return LLMWorker(settings=settings)


class LLMWorker:
    """Implements the WorkerBackend seam. The model and limits come from the task's spec with the
    job's ``settings`` on top (see ``spec.worker_spec``), unless a model is given here (tests);
    its price is the spec's, else the usual lookup (``pricing.price_for``)."""

    name = "llm:worker"

    def __init__(
        self,
        model: str | Model | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
        check_timeout_s: float = 120.0,
    ):
        self._model = model
        self.settings = dict(settings or {})
        self.check_timeout_s = check_timeout_s

    def run(self, task: Task, ctx: WorkContext) -> WorkerResult:
        spec = worker_spec(task, self.settings)
        if task.risk not in spec.risk_levels:
            return WorkerResult(
                status="error",
                error=f"task {task.id} is {task.risk} risk; workers take only "
                f"{', '.join(spec.risk_levels)} risk tasks (worker_risk_levels)",
            )
        label, model = resolve(self._model if self._model is not None else spec.model)
        snapshot, note = context.base_snapshot(ctx.worktree, ctx.base_commit)
        tools = WorktreeTools(
            ctx.worktree, task, snapshot, self.check_timeout_s, ctx.sandbox, ctx.attempt_id
        )
        prompt = _prompt(
            task,
            ctx,
            spec,
            context.task_snippets(
                snapshot, ctx.worktree, task.owned_paths, symbols(task), spec.context_tokens
            ),
        )
        out = _run(model, label, prompt, tools, spec, ctx.timeout_s * WALL_CLOCK_SHARE)
        undone = restore_scope(ctx.worktree, task, ctx.base_commit)
        return _result(out, tools, [note] if note else [], undone, label)


def _prompt(task: Task, ctx: WorkContext, spec: WorkerSpec, snippets: str) -> prompts.Prompt:
    return prompts.render_pair(
        "worker",
        task_id=task.id,
        title=task.title,
        instructions=task.instructions,
        owned_paths=list(task.owned_paths),
        new_files=new_files(task),
        context_paths=list(task.context_paths),
        checks=list(task.checks),
        max_steps=spec.max_steps,
        feedback=ctx.extra_instruction or "",
        snippets=snippets,
    )


def _run(
    model: Model,
    label: str,
    prompt: prompts.Prompt,
    tools: WorktreeTools,
    spec: WorkerSpec,
    wall_clock_s: float,
) -> AgentOutcome[WorkerReport]:
    from pydantic_ai import Agent
    from pydantic_ai.usage import UsageLimits

    agent = Agent(
        model,
        output_type=WorkerReport,
        tools=tools.tools(),
        retries={"output": OUTPUT_RETRIES},
        model_settings={"max_tokens": MAX_OUTPUT_TOKENS},
    )
    limits = UsageLimits(request_limit=spec.max_steps, total_tokens_limit=spec.token_budget)
    return run_agent(
        agent,
        prompt,
        role="worker",
        model_label=label,
        prices=_prices(label, spec.price),
        usage_limits=limits,
        timeout_s=wall_clock_s,
    )


def _prices(label: str, price: Price | None) -> Mapping[str, Price]:
    return {label: price} if price is not None else {}


def _result(
    out: AgentOutcome[WorkerReport],
    tools: WorktreeTools,
    notes: list[str],
    undone: list[str],
    label: str,
) -> WorkerResult:
    log = [*notes, f"edited: {', '.join(sorted(set(tools.edits))) or 'nothing'}"]
    log += [f"check {'passed' if c.passed else 'FAILED'}: {c.command}" for c in tools.checks_run]
    log += [f"refused: {r}" for r in tools.refusals]
    log += [f"undone outside the task: {p}" for p in undone]
    common = {
        "log": "\n".join(log),
        "usage": usage.total(out.calls, label),
        "calls": out.calls,
        "transcript": out.transcript,
    }
    if out.output is None:
        timed_out = (out.error or "").startswith("RunTimedOut")
        return WorkerResult(status="timeout" if timed_out else "error", error=out.error, **common)
    report = out.output
    assumptions = [*report.assumptions]
    claimed = set(report.checks_run) - {c.command for c in tools.checks_run}
    assumptions += [f"claimed to run {c!r} but did not" for c in sorted(claimed)]
    return WorkerResult(
        status="ok", rationale=report.rationale, assumptions=tuple(assumptions), **common
    )
