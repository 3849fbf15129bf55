"""The git metadata a worker could abuse: where it lives, a snapshot of it, and its restoration.

A worker runs in a linked worktree; writing the repository's hooks or config, or repointing the
worktree's ``.git`` links, would reach beyond it. :class:`GitGuard` snapshots those files before a
worker runs and puts them back afterwards, reporting what changed. It runs in every sandbox mode:
under bubblewrap most of this is read-only anyway, without it the guard is what notices.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitLayout:
    """Where a worktree's git metadata lives. ``admin_dir``: ``.git/worktrees/<name>`` of a
    linked worktree (None for a plain checkout); ``common_dir``: the repository's ``.git``."""

    worktree: Path
    dot_git: Path
    admin_dir: Path | None
    common_dir: Path | None
    repo_root: Path


def git_layout(worktree: Path) -> GitLayout:
    dot_git = worktree / ".git"
    if dot_git.is_file():
        text = dot_git.read_text().strip()
        admin = (worktree / text.removeprefix("gitdir:").strip()).resolve()
        commondir = admin / "commondir"
        common = (admin / commondir.read_text().strip()).resolve() if commondir.exists() else admin
        return GitLayout(worktree, dot_git, admin, common, common.parent)
    if dot_git.is_dir():
        return GitLayout(worktree, dot_git, None, dot_git, worktree)
    return GitLayout(worktree, dot_git, None, None, worktree)


Files = dict[Path, bytes | None]


class GitGuard:
    """Snapshot of the git metadata a worker could abuse, restored after it ran.

    Silently restored (a worker's own git use): the worktree's index and HEAD. Restored and
    reported (no honest worker writes these): the ``.git`` file, the admin links, the repository's
    config, hooks and info. Reported only (crewchief itself moves refs during a run): HEAD and
    refs of the repository outside ``refs/crewchief/`` — with ``watch_refs`` only: when the
    worker could not write them (bubblewrap mounts the repository's ``.git`` read-only), a
    change there was someone else's (``merge --ready`` landing, the user committing) and is
    no fault of the worker.
    """

    def __init__(self, layout: GitLayout, watch_refs: bool = True) -> None:
        self.layout = layout
        self.watch_refs = watch_refs
        self.quiet: Files = {}
        self.loud: Files = {}
        self.refs: Files = {}

    def _sets(self) -> tuple[list[Path], list[Path], list[Path]]:
        lay = self.layout
        quiet, loud, refs = [], [lay.dot_git] if lay.dot_git.is_file() else [], []
        if lay.admin_dir is not None:
            quiet += [lay.admin_dir / "index", lay.admin_dir / "HEAD"]
            loud += [lay.admin_dir / n for n in ("commondir", "gitdir", "config.worktree")]
            loud += _walk(lay.admin_dir / "info")
        if lay.common_dir is not None:
            c = lay.common_dir
            quiet += [c / "index"] if lay.admin_dir is None else []
            loud += [c / "config", *_walk(c / "hooks"), *_walk(c / "info")]
            refs += [c / "HEAD", c / "packed-refs"] if self.watch_refs else []
            refs += [
                p
                for p in (_walk(c / "refs") if self.watch_refs else [])
                if "refs/crewchief" not in p.as_posix()
            ]
        return quiet, loud, refs

    def snapshot(self) -> None:
        quiet, loud, refs = self._sets()
        self.quiet, self.loud, self.refs = _read(quiet), _read(loud), _read(refs)

    def restore(self) -> tuple[str, ...]:
        """Put the snapshot back; describe what a worker changed that it had no business to."""
        _, loud_now, refs_now = self._sets()
        found = []
        for path in sorted(set(loud_now) | set(self.loud)):
            before = self.loud.get(path)
            if _content(path) != before:
                found.append(f"changed {path}")
                _put(path, before)
        for path in sorted(set(refs_now) | set(self.refs)):
            if _content(path) != self.refs.get(path):
                found.append(f"changed {path} (not restored)")
        for path, before in self.quiet.items():
            if _content(path) != before:
                _put(path, before)
        return tuple(found)


def _walk(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [Path(d, f) for d, _, files in os.walk(root) for f in files]


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if not path.is_symlink() else b"symlink:" + bytes(path.readlink())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _read(paths: list[Path]) -> Files:
    return {p: _content(p) for p in paths}


def _put(path: Path, data: bytes | None) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    if data is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
