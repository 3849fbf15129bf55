"""What a run's model calls cost: the one derivation and the one wording.

``status``, the page, the dossier and the budgets all read spend through :func:`summarise` over
the ledger's model calls (every call the manager, the workers and the reviewers made,
each recorded once by whoever made it), and say it with :attr:`CostSummary.text`. A call whose
cost nobody reported is counted as unknown, never as 0: the known total is then a lower bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, computed_field

if TYPE_CHECKING:
    from crewchief.ledger.read import RecordedCall

#: The ``by_task`` key of calls that belong to no task (the manager planning, summarising).
RUN_KEY = "(run)"


class TokenCounts(BaseModel):
    """Tokens over a set of calls; a call that reported none adds 0."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: int = 0
    output: int = 0
    cached: int = 0


class CostSummary(BaseModel):
    """Spend of a set of model calls: in total, per task and per role, with tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = Field(description="How many model calls were recorded.")
    unknown_calls: int = Field(description="How many of them reported no cost.")
    tokens: TokenCounts
    total_usd: float | None = Field(
        description=(
            "USD of the calls that reported a cost; None when none did (unknown is never 0)."
        ),
    )
    by_task: dict[str, float] = Field(
        description="Known USD per task; calls of no task (the manager's) under ``(run)``.",
    )
    by_role: dict[str, float] = Field(
        description="Known USD per role: ``manager``, ``worker``, ``reviewer``.",
    )

    @property
    def known_usd(self) -> float:
        """The known spend, 0 when nothing reported one (what a budget can count)."""
        return self.total_usd or 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """The one wording of a cost: ``no model calls``, ``$0.0123``, ``$0.0123 + 2 calls of
        unknown cost`` or ``unknown (3 calls)``."""
        if not self.calls:
            return "no model calls"
        if self.total_usd is None:
            return f"unknown ({_calls(self.calls)})"
        if self.unknown_calls:
            return f"{usd(self.total_usd)} + {_calls(self.unknown_calls)} of unknown cost"
        return usd(self.total_usd)


#: The smallest amount :func:`usd` writes out; less (but not nothing) is "under" it.
SMALLEST_USD = 0.0001


def usd(value: float) -> str:
    """Dollars: to four places under a dollar (model calls cost fractions of a cent, and $0.00
    would read as free), to the cent from a dollar up."""
    if 0 < value < SMALLEST_USD:
        return f"under ${SMALLEST_USD}"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def summarise(rows: Iterable[RecordedCall], task_id: str | None = None) -> CostSummary:
    """The cost of the ledger's model calls (of one task when ``task_id`` is given)."""
    by_task: dict[str, float] = {}
    by_role: dict[str, float] = {}
    tokens = {"input": 0, "output": 0, "cached": 0}
    calls = unknown = 0
    for c in rows:
        if task_id is not None and c.task_id != task_id:
            continue
        calls += 1
        for kind in tokens:
            tokens[kind] += getattr(c, f"{kind}_tokens") or 0
        if c.cost_usd is None:
            unknown += 1
            continue
        task = c.task_id or RUN_KEY
        by_task[task] = by_task.get(task, 0.0) + c.cost_usd
        by_role[c.role] = by_role.get(c.role, 0.0) + c.cost_usd
    return CostSummary(
        calls=calls,
        unknown_calls=unknown,
        tokens=TokenCounts(**tokens),
        total_usd=round(sum(by_role.values()), 6) if calls > unknown else None,
        by_task=by_task,
        by_role=by_role,
    )
