"""The manager's summary of an accepted change set and its proposed merge order.

The order the model proposes is kept as far as it is valid; it is then made valid mechanically:
unknown and repeated tasks are dropped, missing ones added, and no task comes before a task it
depends on. The driver records the result as the ``manager_summary`` event (``event_data``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from crewchief.errors import ModelUnavailable
from crewchief.llm import prompts
from crewchief.llm.agentrun import run_agent
from crewchief.models.pricing import Price
from crewchief.records import ModelWork, Plan, Record, Task
from crewchief.run.taskgraph import TaskGraph

if TYPE_CHECKING:
    from pydantic_ai.models import Model

#: Longest summary the manager may write.
MAX_OUTPUT_TOKENS = 8000
#: Characters of each patch shown in the summary prompt.
MAX_DIFF_CHARS = 8000


@dataclass(frozen=True)
class AcceptedPatch:
    """One accepted attempt: its task, its patch and the worker's rationale."""

    task: Task
    patch: bytes
    rationale: str = ""


class MergeStep(Record):
    task: str
    reason: str


class ChangeSummary(Record):
    """What the whole change does, and the order to merge its patches in; ``work`` is the
    manager's calls and conversation that made it (recorded apart, not in the event)."""

    summary: str
    order: tuple[MergeStep, ...]
    work: ModelWork = Field(default_factory=ModelWork, exclude=True)

    def event_data(self) -> dict[str, Any]:
        """Data of the ledger event ``manager_summary``."""
        return {"summary": self.summary, "order": [s.model_dump() for s in self.order]}


class StepDraft(BaseModel):
    task: str
    reason: str


class SummaryDraft(BaseModel):
    summary: str = Field(description="What the change set does, for the person approving it")
    order: list[StepDraft] = Field(description="Every task once, in merge order, with a reason")


def summarize_change(
    model: Model,
    label: str,
    prices: Mapping[str, Price],
    plan: Plan,
    accepted: Sequence[AcceptedPatch],
    output_retries: int,
) -> ChangeSummary:
    """Ask the manager for the summary (with its work). ModelUnavailable (with the work of the
    failed calls) when the call failed after the SDK's retries or its output stayed malformed:
    no summary is made up, the caller pauses the run."""
    from pydantic_ai import Agent

    agent = Agent(
        model,
        output_type=SummaryDraft,
        retries={"output": output_retries},
        model_settings={"max_tokens": MAX_OUTPUT_TOKENS},
    )
    out = run_agent(
        agent, _prompt(plan, accepted), role="manager", model_label=label, prices=prices
    )
    work = ModelWork(calls=tuple(out.calls), transcript=tuple(out.transcript))
    if out.output is None:
        raise ModelUnavailable(
            f"the manager model {label} failed to summarize the change: {out.error or 'no answer'}",
            work,
        )
    ids = [a.task.id for a in accepted]
    order = valid_order(plan, ids, [(s.task, s.reason) for s in out.output.order])
    steps = tuple(MergeStep(task=t, reason=r) for t, r in order)
    return ChangeSummary(summary=out.output.summary, order=steps, work=work)


def _prompt(plan: Plan, accepted: Sequence[AcceptedPatch]) -> prompts.Prompt:
    patches = []
    for a in accepted:
        diff = a.patch.decode("utf-8", errors="replace")
        cut = "\n[… cut]" if len(diff) > MAX_DIFF_CHARS else ""
        patches.append(
            {
                "task_id": a.task.id,
                "title": a.task.title,
                "risk": a.task.risk,
                "depends_on": list(a.task.depends_on),
                "rationale": a.rationale,
                "diff": diff[:MAX_DIFF_CHARS] + cut,
            }
        )
    return prompts.render_pair("summary", goal=plan.goal, patches=patches)


def valid_order(
    plan: Plan, accepted: Sequence[str], proposed: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """``proposed`` made valid: only accepted tasks, each once, each after its accepted
    dependencies; otherwise as close to ``proposed`` as possible (then plan order)."""
    wanted = set(accepted)
    reasons: dict[str, str] = {}
    for task_id, reason in proposed:
        if task_id in wanted and task_id not in reasons:
            reasons[task_id] = reason
    plan_order = [t.id for t in plan.tasks if t.id in wanted]
    priority = [*reasons, *(t for t in plan_order if t not in reasons)]
    placed = TaskGraph.of(plan).ordered(priority)
    return [
        (t, reasons.get(t, "not placed by the manager; after its dependencies")) for t in placed
    ]
