"""The worker part of an attempt: the worker's child process (``crewchief.attempts.body``, in its
own process group, under the attempt's timeout) and the diff it leaves as the patch. It runs
where the executor puts it: in the driver's pooled worktree (``dispatch``) or on a Ray node
(``remote``), which is why it imports neither of them."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from crewchief import git
from crewchief.attempts import procs
from crewchief.attempts.body import AttemptJob, WorkerJob, run_job_files
from crewchief.config import Config
from crewchief.records import Task, WorkerResult

#: Seconds a worker process gets beyond the attempt's timeout to stop its own children and report.
WORKER_GRACE_S = 5.0


def produce(job: WorkerJob, worktree: Path) -> WorkerResult:
    """The worker part of an attempt in ``worktree`` (a clean checkout of the job's base): the
    worker process under the job's timeout, then the diff it left behind as the patch."""
    result = run_worker_process(job.at(worktree), worktree, job.timeout_s)
    if result.status == "ok":
        result = result.model_copy(update={"patch": git.diff_worktree(worktree, job.base_commit)})
    return result


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
