"""The one way crewchief talks to git: the git CLI in a subprocess, bytes in and out.

Lock contention between concurrent git processes (``index.lock``, ``*.lock`` on refs, the
worktree list) is retried with a short backoff: eight workers starting at once must not fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from crewchief.errors import GitError, UserError

_LOCK_RETRIES = 40
_LOCK_BACKOFF_S = 0.05
_LOCK_MARKERS = (b".lock': File exists", b"Unable to create", b"could not lock", b"is locked")

#: Environment for every git call: no pager, no prompts, stable output, our own identity default.
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "LC_ALL": "C",
    "GIT_AUTHOR_NAME": os.environ.get("GIT_AUTHOR_NAME", "crewchief"),
    "GIT_AUTHOR_EMAIL": os.environ.get("GIT_AUTHOR_EMAIL", "crewchief@localhost"),
    "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", "crewchief"),
    "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", "crewchief@localhost"),
}


def run(
    args: list[str],
    cwd: Path,
    *,
    input: bytes | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git args`` in ``cwd``; retry on lock contention; raise GitError if ``check``."""
    full_env = {**os.environ, **_GIT_ENV, **(env or {})}
    for attempt in range(_LOCK_RETRIES):
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, env=full_env, check=False
        )
        if proc.returncode == 0 or not any(m in proc.stderr for m in _LOCK_MARKERS):
            break
        time.sleep(_LOCK_BACKOFF_S * (1 + attempt % 5))
    if check and proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc


def out(
    args: list[str], cwd: Path, *, input: bytes | None = None, env: dict[str, str] | None = None
) -> str:
    """stdout of a successful git command, decoded, trailing newline stripped."""
    proc = run(args, cwd, input=input, env=env)
    return proc.stdout.decode(errors="surrogateescape").rstrip("\n")


def repo_root(path: Path) -> Path:
    """The top of the working tree containing ``path``; UserError if there is none."""
    proc = run(["rev-parse", "--show-toplevel"], path, check=False)
    if proc.returncode != 0:
        raise UserError(f"{path} is not inside a git repository")
    return Path(proc.stdout.decode().strip())


def head_commit(repo: Path) -> str:
    """The commit HEAD points to; UserError if the repository has no commits yet."""
    proc = run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], repo, check=False)
    if proc.returncode != 0:
        raise UserError(f"{repo} has no commits yet: commit something first")
    return proc.stdout.decode().strip()


def rev_parse(repo: Path, rev: str) -> str | None:
    """The object id ``rev`` names, or None if it names nothing."""
    proc = run(["rev-parse", "--verify", "--quiet", rev], repo, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def current_branch(repo: Path) -> str | None:
    """The branch checked out in ``repo``, or None when HEAD is detached."""
    proc = run(["symbolic-ref", "--quiet", "--short", "HEAD"], repo, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def diff_worktree(worktree: Path, base: str) -> bytes:
    """Everything changed in ``worktree`` relative to ``base`` as ``git diff --binary`` bytes.

    Includes untracked (non-ignored) files, deletions, renames, mode changes and any commits the
    worker made itself (they are squashed: the diff is from ``base`` to the working tree). Staged
    in a copy of the worktree's index with a private object directory: nothing the worker wrote
    (a secret the gate is about to refuse, say) becomes an object in the repository's ``.git``,
    and the worktree's own index is left as it was.
    """
    index = Path(out(["rev-parse", "--path-format=absolute", "--git-path", "index"], worktree))
    objects = out(["rev-parse", "--path-format=absolute", "--git-path", "objects"], worktree)
    with tempfile.TemporaryDirectory(prefix="crewchief-diff-") as scratch:
        private = Path(scratch, "index")
        Path(scratch, "objects").mkdir()  # git takes a missing one for "not a repository"
        if index.exists():
            # With its timestamp: git takes an entry whose stat data matches as unchanged unless
            # the file is no older than the index (racily clean). A copy stamped now would hide
            # a same-size edit made in the instant of the checkout.
            shutil.copy2(index, private)
        env = {
            "GIT_INDEX_FILE": str(private),
            "GIT_OBJECT_DIRECTORY": str(Path(scratch, "objects")),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects,
        }
        run(["add", "--all", "--", "."], worktree, env=env)
        return run(
            [*_DIFF_FLAGS, "--cached", "--binary", "--find-renames", base], worktree, env=env
        ).stdout


#: Flags that make ``git diff`` output the same whatever the user's config says (prefixes,
#: colour, external diff drivers, relative paths).
_DIFF_FLAGS = [
    "diff",
    "--no-color",
    "--no-ext-diff",
    "--no-relative",
    "--src-prefix=a/",
    "--dst-prefix=b/",
]


def tree_with_patch(repo: Path, base: str, patch: bytes) -> tuple[str | None, str]:
    """Apply ``patch`` to ``base``'s tree in a private index; (tree id, "") or (None, reason).

    Never touches a working tree or the user's index. No fuzz: a hunk applies exactly or not at
    all (NOTES: fuzzy patching put hunks into the wrong function and still exited 0).
    """
    with tempfile.TemporaryDirectory(prefix="crewchief-idx-") as d:
        env = {"GIT_INDEX_FILE": str(Path(d) / "index")}
        run(["read-tree", base], repo, env=env)
        if patch:
            proc = run(
                ["apply", "--cached", "--binary", "-"], repo, input=patch, env=env, check=False
            )
            if proc.returncode != 0:
                return None, proc.stderr.decode(errors="replace").strip()
        return out(["write-tree"], repo, env=env), ""


def has_tree(repo: Path, tree: str) -> bool:
    """Whether ``tree`` is a tree object in ``repo`` (a kept one may have been pruned since)."""
    return run(["cat-file", "-e", f"{tree}^{{tree}}"], repo, check=False).returncode == 0


def common_dir(repo: Path) -> Path:
    """The repository's shared git directory (``.git`` of the main checkout)."""
    return Path(out(["rev-parse", "--path-format=absolute", "--git-common-dir"], repo))
