"""Spend limits. Budgets per task and per run are hard stops: when one is reached no new attempt
starts, the attempts already running finish and are kept, and the run pauses (resumable with a
higher budget)."""

from __future__ import annotations

from crewchief.config import Config
from crewchief.ledger import cost
from crewchief.ledger.read import LedgerReader
from crewchief.records import ModelCall, WorkerResult


def over_budget(ledger: LedgerReader, cfg: Config, run_id: str, task_id: str | None) -> str | None:
    """Why no more model spend is allowed for ``task_id`` in ``run_id`` (None: it is). Spend is
    ``status``'s (``cost.summarise``): the known cost; a call of unknown cost cannot count."""
    calls = ledger.model_calls(run_id)
    spent = cost.summarise(calls)
    if cfg.run_budget_usd is not None and spent.known_usd >= cfg.run_budget_usd:
        return f"run budget ${cfg.run_budget_usd:g} reached (spent {spent.text})"
    if task_id is not None and cfg.task_budget_usd is not None:
        task_spent = cost.summarise(calls, task_id=task_id)
        if task_spent.known_usd >= cfg.task_budget_usd:
            return (
                f"task {task_id} reached its budget ${cfg.task_budget_usd:g} "
                f"(spent {task_spent.text})"
            )
    return None


def spend_of(result: WorkerResult, backend: str) -> tuple[ModelCall, ...]:
    """The model calls behind a result, for the ledger and the budgets. A backend that reports
    only a usage total (an external agent CLI) counts as one worker call with that usage; one
    that reports nothing counts as one call of unknown cost, never as free. Recipes call no
    model."""
    if result.calls or backend.startswith("recipe:"):
        return result.calls
    u = result.usage
    return (
        ModelCall(
            role="worker",
            model=u.model or backend,
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cached_tokens=u.cached_tokens,
            latency_s=result.duration_s,
            cost_usd=u.cost_usd,
        ),
    )
