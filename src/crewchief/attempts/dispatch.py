"""Dispatch: one attempt from a pooled worktree to a gated result, as one executor job.

The worker part (``worker_part``: the worker's child process, then its diff) runs in a pooled
worktree this module prepares; the mechanical gate then runs there, so the driver thread only has
to record the outcome. An executor may run the worker part elsewhere (``RemoteWorker``, e.g. on
a Ray cluster): the gate still runs here, on its patch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import JsonValue

from crewchief import git
from crewchief.attempts import worker_part
from crewchief.attempts.body import WorkerJob
from crewchief.attempts.executor import RemoteWorker
from crewchief.attempts.workspace import SPARSE_CONFIG, WorkspacePool
from crewchief.config import Config
from crewchief.gate.verify import Applied, gate
from crewchief.records import CheckResult, Task, WorkerResult
from crewchief.sandbox.runner import SandboxConfig


@dataclass(frozen=True)
class AttemptOutcome:
    """What an attempt job hands back to the driver: the result (with patch) and its checks."""

    task_id: str
    attempt_id: str
    result: WorkerResult
    checks: tuple[CheckResult, ...]
    tree: str | None = None  # the patch applied to its base, by the gate


def run_attempt(
    repo: Path,
    pool: WorkspacePool,
    cfg: Config,
    task: Task,
    attempt_id: str,
    base: str,
    extra_instruction: str | None = None,
    remote: RemoteWorker | None = None,
) -> AttemptOutcome:
    """Run ``task`` once at ``base`` and gate the patch it produced, in a pooled worktree.

    The worker part runs here, in that worktree, unless ``remote`` runs it elsewhere: then its
    patch is checked out into the worktree at ``base`` and gated exactly as a local one is.
    """
    job = WorkerJob(
        task=task,
        attempt_id=attempt_id,
        base_commit=base,
        timeout_s=cfg.task_timeout_s,
        extra_instruction=extra_instruction,
        settings=backend_settings(task, cfg),
        sandbox=job_sandbox(task, cfg),
    )
    sparse = sparse_paths(task, cfg)
    # A remote worker needs no worktree here while it works: take one only to gate its patch.
    result = remote(repo, job, sparse) if remote is not None else None
    with pool.workspace(base, sparse) as ws:
        applied = None
        if result is None:
            result = worker_part.produce(job, ws.path)
        else:
            applied = _check_out_patch(repo, ws.path, base, result.patch)
        gated = gate(repo, task, result, ws.path, base, cfg, owner=attempt_id, applied=applied)
    return AttemptOutcome(task.id, attempt_id, result, tuple(gated.checks), gated.tree)


def sparse_paths(task: Task, cfg: Config) -> tuple[str, ...] | None:
    """The paths an attempt's worktree checks out, or None for all of them."""
    return (*task.owned_paths, *task.context_paths) if cfg.sparse_worktrees else None


def _check_out_patch(repo: Path, worktree: Path, base: str, patch: bytes) -> Applied | None:
    """Make ``worktree`` (at ``base``) hold ``base`` plus ``patch`` in its index and files, as a
    local worker would have left it. Applied exactly, once: the gate's apply check takes the
    result; a patch that does not apply leaves the worktree at ``base`` and fails that check."""
    if not patch:
        return None
    tree, reason = git.tree_with_patch(repo, base, patch)
    if tree is not None:
        git.run([*SPARSE_CONFIG, "read-tree", "-u", "--reset", tree], worktree)
    return tree, reason


def job_sandbox(task: Task, cfg: Config) -> SandboxConfig:
    """The sandbox of what a task's worker runs: a recipe's own, else that of checks."""
    kind, _, name = task.backend.partition(":")
    return cfg.recipe_sandbox_for(name) if kind == "recipe" else cfg.check_sandbox()


def backend_settings(task: Task, cfg: Config) -> dict[str, JsonValue]:
    """The configuration a task's backend needs in the worker process: the ``[agents.NAME]``
    table for ``agent:NAME``, the worker model and its limits for ``llm:*``."""
    kind, _, name = task.backend.partition(":")
    if kind == "agent":
        return dict(cfg.agents.get(name, {}))
    if kind == "llm":
        prices: dict[str, JsonValue] = {m: dict(t.items()) for m, t in cfg.prices.items()}
        return {
            "model": cfg.worker_model,
            "max_steps": cfg.worker_max_steps,
            "token_budget": cfg.worker_token_budget,
            "prices": prices,
            "risk_levels": list[JsonValue](cfg.worker_risk_levels),
        }
    return {}
