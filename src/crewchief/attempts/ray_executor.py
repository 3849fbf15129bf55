"""The Ray executor: the worker part of each attempt runs as a task on a Ray cluster.

The driver keeps the ledger, the gate and all integration (DESIGN, "Scale"). A Ray task gets
plain data, a ``git bundle`` of the base commit (made once per base and put into the object
store once) and the job, and returns the WorkerResult with its patch
(``crewchief.attempts.remote``). Attempts are driven by a local thread pool as with the local
executor; each thread waits on its Ray task, then gates the patch in a pooled worktree here.

Imported only when ``executor = "ray"`` (``executor_choice.make_executor``): Ray is an
optional extra.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

import ray
from ray import ObjectRef

from crewchief.attempts import procs, remote
from crewchief.attempts.body import WorkerJob
from crewchief.attempts.executor import LocalExecutor, RemoteWorker
from crewchief.errors import UserError
from crewchief.records import WorkerResult

T = TypeVar("T")

#: Seconds a cancelled task gets to stop its worker's process groups (as a local Ctrl-C does)
#: before its Ray worker process is killed outright.
CANCEL_GRACE_S = 10.0
#: Seconds between two looks for a cancellation in a running Ray task.
_CANCEL_POLL_S = 0.1
#: Runs of a task whose Ray worker died under it (a lost node); an attempt is pure, so safe.
_RETRIES_ON_LOST_WORKER = 1


@ray.remote(max_retries=_RETRIES_ON_LOST_WORKER)
def _remote_attempt(source: bytes, job_json: str, sparse: list[str] | None) -> str:
    """The Ray task: plain data in (bundle bytes, the job as JSON), the result as JSON out.

    Ray cancels a running task by raising KeyboardInterrupt in its main thread between two
    bytecodes, which a thread blocked waiting for the worker process never reaches. So the
    attempt runs in a second thread while this one polls; on cancel, the worker's process
    groups are stopped here as a local Ctrl-C stops them (again until the attempt ends: its
    worker process may not have started yet), and the temporary clone is removed.
    """
    job = WorkerJob.model_validate_json(job_json)
    with ThreadPoolExecutor(max_workers=1) as pool:
        attempt = pool.submit(remote.run_remote_attempt, source, job, sparse)
        try:
            while not wait([attempt], timeout=_CANCEL_POLL_S).done:
                pass
        except KeyboardInterrupt:
            while not attempt.done():
                procs.kill_all()
                wait([attempt], timeout=_CANCEL_POLL_S)
            raise
        return attempt.result().model_dump_json()


class RayExecutor:
    """At most ``workers`` attempts at once, their workers on the Ray cluster at ``address``
    (None: the one this process already joined, or a new local one)."""

    def __init__(self, workers: int, address: str | None) -> None:
        self.workers = workers
        self.remote_worker: RemoteWorker | None = self._run_remote
        self._local = LocalExecutor(workers)
        self._started = connect(address)
        self._bundles: dict[tuple[Path, str], ObjectRef[bytes]] = {}
        self._bundle_mutex = threading.Lock()
        self._running: set[ObjectRef[str]] = set()
        self._mutex = threading.Lock()
        self._cancelled = False

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        return self._local.submit(fn)

    def cancel(self) -> None:
        """Drop queued attempts and stop running Ray tasks: first as a local Ctrl-C stops a
        worker (its process groups get SIGTERM), then, after ``CANCEL_GRACE_S``, by killing
        the Ray worker process (``force``: that alone would leave the worker's own process
        groups running)."""
        with self._mutex:
            self._cancelled = True
            refs = list(self._running)
        self._local.cancel()
        for ref in refs:
            ray.cancel(ref)
        if refs:
            _, left = ray.wait(refs, num_returns=len(refs), timeout=CANCEL_GRACE_S)
            for ref in left:
                ray.cancel(ref, force=True)

    def shutdown(self) -> None:
        """Wait for running attempts; stop the local Ray cluster if this executor started it."""
        self._local.shutdown()
        if self._started:
            ray.shutdown()

    def _run_remote(
        self, repo: Path, job: WorkerJob, sparse: tuple[str, ...] | None
    ) -> WorkerResult:
        ref = _remote_attempt.remote(
            self._bundle(repo, job.base_commit),
            job.model_dump_json(),
            list(sparse) if sparse is not None else None,
        )
        with self._mutex:
            self._running.add(ref)
            if self._cancelled:  # cancel() ran while this task was being submitted
                ray.cancel(ref)
        try:
            return WorkerResult.model_validate_json(ray.get(ref))
        finally:
            with self._mutex:
                self._running.discard(ref)

    def _bundle(self, repo: Path, base: str) -> ObjectRef[bytes]:
        """The bundle of ``base`` in the object store: made and put there once per base."""
        with self._bundle_mutex:
            key = (repo, base)
            if key not in self._bundles:
                self._bundles[key] = ray.put(remote.bundle(repo, base))
            return self._bundles[key]


def connect(address: str | None) -> bool:
    """Join the Ray cluster at ``address`` (None: start a local one) unless this process has
    joined one already; True when this call joined. UserError when it cannot."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(
            address=address,
            log_to_driver=False,  # the CLI shows the ledger; worker output is in each result
            logging_level=logging.ERROR,
            include_dashboard=False if address is None else None,  # None: the cluster's choice
        )
    except (ConnectionError, ValueError, RuntimeError) as e:  # ValueError: ray:// w/o Ray Client
        raise UserError(f"cannot join the Ray cluster at {address}: {e}") from e
    return True
