"""Executors run attempt bodies concurrently. The local one is a bounded thread pool whose
threads each drive one worker subprocess (in its own process group, see ``procs``)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, TypeVar

from crewchief import procs

T = TypeVar("T")


class Executor(Protocol):
    """Runs callables with bounded concurrency; ``cancel`` kills whatever is running."""

    workers: int

    def submit(self, fn: Callable[[], T]) -> Future[T]: ...

    def cancel(self) -> None: ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """At most ``workers`` attempts at once on this machine."""

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
