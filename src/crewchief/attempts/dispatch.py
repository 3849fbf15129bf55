"""Dispatch: one attempt from a pooled worktree to a gated result, as one executor job.

The body of the worker runs in a child process (``crewchief.attempts.body``) in its own process
group; this module prepares its workspace, takes the diff when it ends and runs the mechanical gate
there, so the driver thread only has to record the outcome. An executor may run the worker part
elsewhere (``RemoteWorker``, e.g. on a Ray cluster): the gate still runs here, on its patch.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import JsonValue

from crewchief import git
from crewchief.attempts import procs
from crewchief.attempts.body import AttemptJob, WorkerJob, run_job_files
from crewchief.attempts.executor import RemoteWorker
from crewchief.attempts.workspace import SPARSE_CONFIG, WorkspacePool
from crewchief.config import Config
from crewchief.gate.verify import gate
from crewchief.records import CheckResult, Task, WorkerResult
from crewchief.sandbox.runner import SandboxConfig

#: Seconds a worker process gets beyond the attempt's timeout to stop its own children and report.
WORKER_GRACE_S = 5.0


@dataclass(frozen=True)
class AttemptOutcome:
    """What an attempt job hands back to the driver: the result (with patch) and its checks."""

    task_id: str
    attempt_id: str
    result: WorkerResult
    checks: tuple[CheckResult, ...]


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
        if result is None:
            result = produce(job, ws.path)
        else:
            _check_out_patch(repo, ws.path, base, result.patch)
        checks = gate(repo, task, result, ws.path, base, cfg, owner=attempt_id)
    return AttemptOutcome(task.id, attempt_id, result, tuple(checks))


def produce(job: WorkerJob, worktree: Path) -> WorkerResult:
    """The worker part of an attempt in ``worktree`` (a clean checkout of the job's base): the
    worker process under the job's timeout, then the diff it left behind as the patch."""
    result = run_worker_process(job.at(worktree), worktree, job.timeout_s)
    if result.status == "ok":
        result = result.model_copy(update={"patch": git.diff_worktree(worktree, job.base_commit)})
    return result


def sparse_paths(task: Task, cfg: Config) -> tuple[str, ...] | None:
    """The paths an attempt's worktree checks out, or None for all of them."""
    return (*task.owned_paths, *task.context_paths) if cfg.sparse_worktrees else None


def _check_out_patch(repo: Path, worktree: Path, base: str, patch: bytes) -> None:
    """Make ``worktree`` (at ``base``) hold ``base`` plus ``patch`` in its index and files, as a
    local worker would have left it. Applied exactly, by the gate's own machinery; a patch that
    does not apply leaves the worktree at ``base`` and fails the gate's apply check."""
    if not patch:
        return
    tree, _ = git.tree_with_patch(repo, base, patch)
    if tree is not None:
        git.run([*SPARSE_CONFIG, "read-tree", "-u", "--reset", tree], worktree)


def warm_up(tasks: Sequence[Task], cfg: Config) -> None:
    """Start the worker processes' fork server with what these tasks' backends import, so that
    each attempt starts warm instead of importing them again."""
    procs.warm_context(preload_modules(tasks, cfg.worker_model))


def preload_modules(tasks: Sequence[Task], worker_model: str | None) -> list[str]:
    """The modules the worker processes of these tasks' backends import."""
    kinds = {t.backend.partition(":")[0] for t in tasks}
    preload = ["crewchief.attempts.body", "crewchief.recipes.codemod", "crewchief.recipes.command"]
    if "agent" in kinds:
        preload.append("crewchief.backends.external")
    if "llm" in kinds:
        preload += ["pydantic_ai", "crewchief.llm.worker", *_provider_modules(worker_model)]
    return preload


def _provider_modules(model: str | None) -> list[str]:
    provider = (model or "").partition(":")[0]
    found = {
        "anthropic": "pydantic_ai.models.anthropic",
        "openai": "pydantic_ai.models.openai",
        "openai-compatible": "pydantic_ai.models.openai",
        "scripted": "pydantic_ai.models.function",
    }.get(provider)
    return [found] if found else []


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


def run_worker_process(job: AttemptJob, worktree: Path, timeout_s: float) -> WorkerResult:
    """``crewchief.attempts.body`` on ``job`` in a child process group, killed after the timeout."""
    with tempfile.TemporaryDirectory(prefix="crewchief-job-") as d:
        job_file, result_file = Path(d) / "job.json", Path(d) / "result.json"
        job_file.write_text(job.model_dump_json())
        # The backend enforces the timeout itself first; this is the backstop for one that can't.
        proc = procs.run_function(
            run_job_files,
            (str(job_file), str(result_file)),
            worktree,
            timeout_s=timeout_s + WORKER_GRACE_S,
        )
        if proc.timed_out:
            return WorkerResult(
                status="timeout",
                error=f"timed out after {timeout_s:.0f}s (the worker process gave no result)",
                log=proc.output,
                duration_s=proc.duration_s,
            )
        if not result_file.exists():
            return WorkerResult(
                status="error",
                log=proc.output,
                duration_s=proc.duration_s,
                error=f"worker process exited {proc.returncode} with no result",
            )
        result = WorkerResult.model_validate_json(result_file.read_text())
        log = "\n".join(s for s in (result.log, proc.output) if s)
        return result.model_copy(update={"log": log})
