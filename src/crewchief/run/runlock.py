"""Who is driving a run: one exclusive file lock per run under ``.crewchief/locks/``.

The lock lives as long as the driving process: a driver killed with SIGKILL releases it with its
last file descriptor, so a run whose ledger says ``running`` but whose lock is free has lost its
driver (``status`` shows it as interrupted; ``resume`` picks it up).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crewchief import git
from crewchief.attempts.workspace import crewchief_dir
from crewchief.errors import UserError
from crewchief.merge import integrate


def _lock_file(repo: Path, run_id: str, what: str = "") -> Path:
    return crewchief_dir(repo) / "locks" / f"{run_id}{what}.lock"


def try_lock(path: Path) -> int | None:
    """The exclusive lock on ``path`` taken by this process (its fd, to close to release it),
    or None when another process holds it. The kernel releases it when its holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def try_landing_lock(repo: Path, run_id: str) -> int | None:
    """``try_lock`` on the run's landing lock: held by the process landing the run, from its
    checks to its record (``merge.reconcile.landing``)."""
    return try_lock(_lock_file(repo, run_id, ".landing"))


@contextmanager
def run_lock(repo: Path, run_id: str) -> Iterator[None]:
    """Exclusive hold on a run for this process; UserError if another process is driving it.

    Also clears stale git lock files on the run's own ref: only a dead holder of this lock could
    have left them (NOTES: SIGKILL during update-ref left such locks in 11 of 200 runs).
    """
    fd = try_lock(_lock_file(repo, run_id))
    if fd is None:
        raise UserError(f"run {run_id} is being driven by another crewchief process")
    try:
        (git.common_dir(repo) / (integrate.run_ref(run_id) + ".lock")).unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)


def is_driven(repo: Path, run_id: str) -> bool:
    """Whether some live process holds ``run_id``'s lock now (never takes it for long)."""
    path = _lock_file(repo, run_id)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock if we took it
    return False
