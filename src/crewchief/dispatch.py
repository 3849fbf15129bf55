"""Dispatch: one attempt from a pooled worktree to a gated result, as one executor job.

The body of the worker runs in a child process (``crewchief.attempt``) in its own process group;
this module prepares its workspace, takes the diff when it ends and runs the mechanical gate
there, so the driver thread only has to record the outcome.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import JsonValue

from crewchief import git, procs
from crewchief.attempt import AttemptJob, run_job_files
from crewchief.config import Config
from crewchief.records import CheckResult, Task, WorkerResult
from crewchief.verify import gate
from crewchief.workspace import WorkspacePool

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
) -> AttemptOutcome:
    """Run ``task`` once at ``base`` in a pooled worktree and gate the patch it leaves behind."""
    sparse = [*task.owned_paths, *task.context_paths] if cfg.sparse_worktrees else None
    with pool.workspace(base, sparse) as ws:
        job = AttemptJob(
            task=task,
            attempt_id=attempt_id,
            worktree=str(ws.path),
            base_commit=base,
            timeout_s=cfg.task_timeout_s,
            extra_instruction=extra_instruction,
            settings=backend_settings(task, cfg),
        )
        result = _run_worker_process(job, ws.path, cfg.task_timeout_s)
        if result.status == "ok":
            result = result.model_copy(update={"patch": git.diff_worktree(ws.path, base)})
        checks = gate(repo, task, result, ws.path, base, cfg)
    return AttemptOutcome(task.id, attempt_id, result, tuple(checks))


def warm_up(tasks: Sequence[Task], cfg: Config) -> None:
    """Start the worker processes' fork server with what these tasks' backends import, so that
    each attempt starts warm instead of importing them again."""
    kinds = {t.backend.partition(":")[0] for t in tasks}
    preload = ["crewchief.attempt", "crewchief.recipes.codemod", "crewchief.recipes.command"]
    if "agent" in kinds:
        preload.append("crewchief.backends.external")
    if "llm" in kinds:
        preload += ["pydantic_ai", "crewchief.llm.worker", *_provider_modules(cfg.worker_model)]
    procs.warm_context(preload)


def _provider_modules(model: str | None) -> list[str]:
    provider = (model or "").partition(":")[0]
    found = {
        "anthropic": "pydantic_ai.models.anthropic",
        "openai": "pydantic_ai.models.openai",
        "openai-compatible": "pydantic_ai.models.openai",
        "scripted": "pydantic_ai.models.function",
    }.get(provider)
    return [found] if found else []


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


def _run_worker_process(job: AttemptJob, worktree: Path, timeout_s: float) -> WorkerResult:
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
                error=f"no result after {timeout_s:.0f}s",
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
