"""The body of one attempt, run as ``python -m crewchief.attempts.body JOB RESULT`` in its own
process.

A job is plain data (the task and where to work), the result is a WorkerResult without its patch:
the same pure function a remote executor runs. Running it in a child process gives every backend,
in-process ones included, a process group that a timeout or Ctrl-C can kill whole.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from crewchief.attempts import procs
from crewchief.backends.base import WorkContext, backend_for
from crewchief.models.providers import refuse_requests_if_asked
from crewchief.records import Task, WorkerResult
from crewchief.sandbox.runner import SandboxConfig


class WorkerJob(BaseModel):
    """What a worker is asked to do, wherever it runs: plain data any executor can carry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Task
    attempt_id: str
    base_commit: str
    timeout_s: float
    extra_instruction: str | None = None
    settings: dict[str, JsonValue] = Field(default_factory=dict)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)

    def at(self, worktree: Path) -> AttemptJob:
        """This job in ``worktree`` (a checkout of ``base_commit``): what a worker process runs."""
        return AttemptJob(**self.model_dump(), worktree=str(worktree))


class AttemptJob(WorkerJob):
    """Everything a worker process needs: the job and the worktree it works in."""

    worktree: str


def execute(job: AttemptJob) -> WorkerResult:
    """Run the task's backend in ``job.worktree``; errors become an ``error`` result."""
    start = time.monotonic()
    ctx = WorkContext(
        Path(job.worktree),
        job.base_commit,
        job.attempt_id,
        job.timeout_s,
        job.extra_instruction,
        job.sandbox,
    )
    try:
        result = backend_for(job.task, dict(job.settings)).run(job.task, ctx)
    except Exception as e:  # a backend bug must become a recorded failure, not a lost attempt
        result = WorkerResult(
            status="error", error=f"{type(e).__name__}: {e}", log=traceback.format_exc()
        )
    return result.model_copy(update={"duration_s": time.monotonic() - start})


def run_job_files(job_file: str, result_file: str) -> None:
    """The body of a worker process: the job from ``job_file``, its result to ``result_file``."""
    main([job_file, result_file])


def main(argv: list[str]) -> int:
    procs.stop_children_on_sigterm()
    refuse_requests_if_asked()
    job_path, result_path = Path(argv[0]), Path(argv[1])
    job = AttemptJob.model_validate_json(job_path.read_text())
    result = execute(job)
    result_path.write_text(result.model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
