"""Isolated git worktrees for attempts, pooled so that a new attempt costs a reset, not a checkout.

Each workspace is a detached worktree under ``.crewchief/worktrees/`` of the user's repository.
The user's checkout, index, branches and config are never touched: sparse checkouts are driven by
the worktree's own ``info/sparse-checkout`` file and ``-c core.sparseCheckout=true`` on our own
commands, not by ``git sparse-checkout`` (which would switch on ``extensions.worktreeConfig`` in
the user's config). A workspace is held under an exclusive ``flock`` by one process at a time, so
worktrees left behind by a dead process are simply taken over by the next one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from crewchief import git

#: Config for our own commands in a workspace: honour its sparse patterns (never the user's config).
SPARSE_CONFIG = ["-c", "core.sparseCheckout=true"]
#: Most worktrees one repository keeps; more concurrent attempts than this is a config error.
MAX_WORKSPACES = 64


@dataclass
class Workspace:
    """One checked-out worktree, held by this process until released."""

    name: str
    path: Path
    base: str = ""
    sparse_paths: tuple[str, ...] | None = None
    admin: Path | None = None  # the worktree's own git directory (.git/worktrees/<name>)
    _lock_fd: int = field(default=-1, repr=False)


def crewchief_dir(repo: Path) -> Path:
    """``<repo>/.crewchief``, created on first use and git-ignored from the inside."""
    d = repo / ".crewchief"
    d.mkdir(exist_ok=True)
    ignore = d / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# crewchief's own state: never committed\n*\n")
    return d


class WorkspacePool:
    """Hands out worktrees reset to a base commit; reuses them across attempts."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.root = crewchief_dir(repo) / "worktrees"
        self.root.mkdir(exist_ok=True)
        self._free: list[Workspace] = []
        self._held: dict[str, Workspace] = {}
        self._mutex = threading.Lock()
        self._admin_mutex = threading.Lock()

    def acquire(self, base: str, sparse_paths: Sequence[str] | None = None) -> Workspace:
        """A worktree whose HEAD, index and files are exactly ``base`` (only ``sparse_paths``
        checked out when given). Only the files that differ from its last use are rewritten."""
        ws = self._take()
        try:
            self._reset(ws, base, tuple(sparse_paths) if sparse_paths is not None else None)
        except BaseException:
            self._drop(ws)
            raise
        return ws

    def release(self, ws: Workspace) -> None:
        """Give the workspace back for reuse; its files are reset on the next acquire."""
        with self._mutex:
            self._held.pop(ws.name, None)
            self._free.append(ws)

    @contextmanager
    def workspace(
        self, base: str, sparse_paths: Sequence[str] | None = None
    ) -> Iterator[Workspace]:
        ws = self.acquire(base, sparse_paths)
        try:
            yield ws
        finally:
            self.release(ws)

    def close(self) -> None:
        """Remove every worktree this pool holds and prune git's list of worktrees."""
        with self._mutex:
            all_ws = self._free + list(self._held.values())
            self._free, self._held = [], {}
        for ws in all_ws:
            self._remove(ws)
        with self._admin():
            git.run(["worktree", "prune"], self.repo, check=False)

    @contextmanager
    def _admin(self) -> Iterator[None]:
        """Serialize changes to git's list of worktrees across threads and processes: a
        ``worktree prune`` racing a ``worktree add`` deletes the half-made one."""
        with self._admin_mutex:
            fd = os.open(self.root / ".admin.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _take(self) -> Workspace:
        with self._mutex:
            if self._free:
                ws = self._free.pop()
                self._held[ws.name] = ws
                return ws
            for n in range(MAX_WORKSPACES):
                name = f"wt-{n}"
                if name in self._held:
                    continue
                fd = _try_lock(self.root / f"{name}.lock")
                if fd >= 0:
                    ws = Workspace(name=name, path=self.root / name, _lock_fd=fd)
                    self._held[name] = ws
                    return ws
        raise RuntimeError(f"more than {MAX_WORKSPACES} workspaces in use in {self.repo}")

    def _reset(self, ws: Workspace, base: str, sparse: tuple[str, ...] | None) -> None:
        if not _is_worktree(ws.path):
            ws.admin = None
            if ws.path.exists():
                shutil.rmtree(ws.path)
            with self._admin():
                # --force: the path may still be registered by a dead process's worktree.
                git.run(
                    ["worktree", "add", "--force", "--detach", "--no-checkout", str(ws.path), base],
                    self.repo,
                )
        if ws.admin is None:
            ws.admin = Path(git.out(["rev-parse", "--absolute-git-dir"], ws.path))
        # Only a dead holder of this workspace's flock can have left an index lock behind.
        (ws.admin / "index.lock").unlink(missing_ok=True)
        (ws.admin / "info").mkdir(exist_ok=True)
        patterns = ["/*"] if sparse is None else [f"/{p}" for p in sparse]
        (ws.admin / "info" / "sparse-checkout").write_text("\n".join(patterns) + "\n")
        # reset --hard rewrites only what differs from base and applies the sparse patterns.
        git.run([*SPARSE_CONFIG, "reset", "--hard", "--quiet", base], ws.path)
        git.run(["clean", "-ffdxq"], ws.path)
        ws.base, ws.sparse_paths = base, sparse

    def _drop(self, ws: Workspace) -> None:
        with self._mutex:
            self._held.pop(ws.name, None)
        self._remove(ws)

    def _remove(self, ws: Workspace) -> None:
        with self._admin():
            git.run(
                ["worktree", "remove", "--force", "--force", str(ws.path)], self.repo, check=False
            )
        if ws.path.exists():
            shutil.rmtree(ws.path, ignore_errors=True)
        if ws._lock_fd >= 0:
            os.close(ws._lock_fd)
            ws._lock_fd = -1


def _try_lock(path: Path) -> int:
    """An fd holding an exclusive flock on ``path``, or -1 if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return -1
    return fd


def _is_worktree(path: Path) -> bool:
    return (path / ".git").is_file()
