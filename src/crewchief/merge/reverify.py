"""Re-verification after signature drift: when a patch that lands changes or removes a public
symbol that another task's code refers to, that task's fast and acceptance checks run again on
the integration result; a task that no longer passes is re-run once on the new tip."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crewchief.attempts.workspace import WorkspacePool
from crewchief.config import Config
from crewchief.gate.verify import run_commands
from crewchief.merge.integrate import Chain
from crewchief.records import CheckResult, Plan


def drifted(repo: Path, plan: Plan, chain: Chain) -> dict[str, list[str]]:
    """Task id → what drifted under it: for each link, the public signatures it changed that
    another task in the chain refers to (from its owned or context code)."""
    found: dict[str, list[str]] = {}
    for changer, affected, symbols in drifts(repo, plan, chain):
        found.setdefault(affected, []).append(f"{changer} changed {', '.join(symbols)}")
    return found


def drifts(repo: Path, plan: Plan, chain: Chain) -> list[tuple[str, str, tuple[str, ...]]]:
    """(the task whose link changed public signatures, a task in the chain whose code refers
    to them, those symbols), in chain order."""
    from crewchief.intel.drift import detect_drift
    from crewchief.intel.index import SymbolIndex

    in_chain = [plan.task(link.task) for link in chain.links]
    found: list[tuple[str, str, tuple[str, ...]]] = []
    with SymbolIndex(repo) as index:
        parent = chain.start
        for task_id, _, commit in chain.links:
            others = [(t.id, t.owned_paths, t.context_paths) for t in in_chain if t.id != task_id]
            report = detect_drift(index, parent, head=commit, tasks=others)
            found += [(task_id, hit.task_id, tuple(hit.symbols)) for hit in report.affected]
            parent = commit
    return found


def recheck(
    pool: WorkspacePool, cfg: Config, plan: Plan, task_id: str, tip: str, reasons: Sequence[str]
) -> list[CheckResult]:
    """The task's fast and acceptance checks on its own files at ``tip``."""
    task = plan.task(task_id)
    files = [p for p in task.owned_paths if not p.endswith("/")]
    with pool.workspace(tip) as ws:
        present = [f for f in files if (ws.path / f).exists()]
        checks = run_commands(
            [*cfg.fast_checks, *task.checks],
            "fast",
            ws.path,
            present,
            cfg.check_timeout_s,
            box=cfg.check_sandbox(),
        )
    why = "; ".join(reasons)
    return [c.model_copy(update={"name": f"re-verify ({why}): {c.name}"}) for c in checks]
