"""Executors run attempt bodies concurrently. The local one is a bounded thread pool whose
threads each drive one worker subprocess (in its own process group, see ``procs``); the Ray one
(``crewchief.attempts.ray_executor``, loaded only when configured) sends the worker part of each
attempt to a Ray cluster and keeps everything else here."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from crewchief.attempts import procs
from crewchief.attempts.body import WorkerJob
from crewchief.records import WorkerResult

T = TypeVar("T")


class RemoteWorker(Protocol):
    """Runs the worker part of an attempt away from the driver's worktrees: ``job`` at its base
    commit of ``repo`` (checking out only ``sparse`` when given) → its result with the patch."""

    def __call__(
        self, repo: Path, job: WorkerJob, sparse: tuple[str, ...] | None
    ) -> WorkerResult: ...


class Executor(Protocol):
    """Runs callables with bounded concurrency; ``cancel`` kills whatever is running.

    ``remote_worker`` says where an attempt's worker part runs: None in a pooled worktree on
    this machine, otherwise through it (the gate always runs on this machine).
    """

    workers: int
    remote_worker: RemoteWorker | None

    def submit(self, fn: Callable[[], T]) -> Future[T]: ...

    def cancel(self) -> None: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """At most ``workers`` attempts at once on this machine."""

    remote_worker: RemoteWorker | None = None

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crewchief")

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        return self._pool.submit(fn)

    def cancel(self) -> None:
        """Drop queued work and kill every running process group (Ctrl-C, budget stop)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        procs.kill_all()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
