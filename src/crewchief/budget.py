"""Spend limits. Budgets per task and per run are hard stops: when one is reached no new attempt
starts, the attempts already running finish and are kept, and the run pauses (resumable with a
higher budget)."""

from __future__ import annotations

from crewchief.config import Config
from crewchief.ledger_read import LedgerReader


def over_budget(ledger: LedgerReader, cfg: Config, run_id: str, task_id: str | None) -> str | None:
    """Why no more model spend is allowed for ``task_id`` in ``run_id`` (None: it is)."""
    spent = ledger.spent_usd(run_id)
    if cfg.run_budget_usd is not None and spent >= cfg.run_budget_usd:
        return f"run budget ${cfg.run_budget_usd:g} reached (spent ${spent:.4f})"
    if task_id is not None and cfg.task_budget_usd is not None:
        task_spent = ledger.spent_usd(run_id, task_id)
        if task_spent >= cfg.task_budget_usd:
            return (
                f"task {task_id} reached its budget ${cfg.task_budget_usd:g} "
                f"(spent ${task_spent:.4f})"
            )
    return None
