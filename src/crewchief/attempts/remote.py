"""A remote attempt: the worker part of one attempt as a pure function of plain data.

(repository source, job) → WorkerResult with its patch (DESIGN, "Scale"). The source is a
``git bundle`` holding the job's base commit (bytes, made once per base by the driver with
``bundle``) or a URL or path the worker can fetch that commit from. The worker fetches the base
into a private temporary repository, runs the job there exactly as a local attempt runs
(``worker_part.produce``: a worker process in its own process group under the job's timeout, then
the diff) and removes everything it made. Nothing here reads or writes the driver's repository,
ledger or worktrees, and nothing here imports Ray: any executor can carry it.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from crewchief import git
from crewchief.attempts import procs
from crewchief.attempts.body import WorkerJob
from crewchief.attempts.worker_part import preload_modules, produce
from crewchief.attempts.workspace import WorkspacePool
from crewchief.records import WorkerResult

#: Where the driver parks a base commit under a name for ``git bundle``, which bundles refs only.
_BUNDLE_REF = "refs/crewchief/bundles"


def bundle(repo: Path, commit: str) -> bytes:
    """A ``git bundle`` of ``commit`` and its history: a source ``run_remote_attempt`` takes.

    Bundles name refs, so ``commit`` is parked for a moment under a ref of crewchief's own that
    is unique to this thread (the user's branches and tags are never touched).
    """
    ref = f"{_BUNDLE_REF}/{os.getpid()}-{threading.get_ident()}"
    git.run(["update-ref", ref, commit], repo)
    try:
        with tempfile.TemporaryDirectory(prefix="crewchief-bundle-") as d:
            path = Path(d) / "base.bundle"
            git.run(["bundle", "create", "--quiet", str(path), ref], repo)
            return path.read_bytes()
    finally:
        git.run(["update-ref", "-d", ref], repo, check=False)


def run_remote_attempt(
    source: bytes | str, job: WorkerJob, sparse: Sequence[str] | None = None
) -> WorkerResult:
    """Run ``job`` on its base commit fetched from ``source`` (bundle bytes, or a URL or path);
    only ``sparse`` is checked out when given, as in a sparse local worktree.

    The result is the one a local attempt at that commit would produce, patch included. A source
    without the base commit raises GitError (the executor records it as a failed attempt).
    """
    model = job.settings.get("model")
    procs.warm_context(preload_modules([job.task], model if isinstance(model, str) else None))
    with tempfile.TemporaryDirectory(prefix="crewchief-remote-") as d:
        repo = _fetch_base(source, job.base_commit, Path(d))
        pool = WorkspacePool(repo)
        try:
            with pool.workspace(job.base_commit, sparse) as ws:
                return produce(job, ws.path)
        finally:
            pool.close()


def _fetch_base(source: bytes | str, commit: str, into: Path) -> Path:
    """A new repository under ``into`` holding ``commit`` and its history from ``source``."""
    repo = into / "repo"
    repo.mkdir()
    git.run(["init", "--quiet"], repo)
    if isinstance(source, bytes):
        path = into / "base.bundle"
        path.write_bytes(source)
        source = str(path)
    git.run(["fetch", "--quiet", "--no-tags", source, commit], repo)
    return repo
