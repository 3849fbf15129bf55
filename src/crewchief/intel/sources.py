"""Which source files a snapshot of the repository has, and their git blob ids.

Two kinds of snapshot: the working tree (what the user or a worker sees now: the index's entries,
with modified and untracked-but-not-ignored files hashed afresh) and a commit or tree (``git
ls-tree -r``). Files git ignores are never listed; only files in a language the index knows are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from crewchief import git
from crewchief.intel.languages import language_for_path

_REGULAR_MODES = frozenset({"100644", "100755"})


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One source file of a snapshot: where it is, which content, which language."""

    path: str
    blob: str
    language: str


def under(path: str, roots: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``roots`` or lies in one of them (a directory, with or without
    a trailing ``/``). Roots are repository-relative paths, not globs."""
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots if r)


def worktree_files(repo: Path, paths: list[str] | None = None) -> dict[str, SourceFile]:
    """The working tree's source files by path, limited to ``paths`` (pathspecs) if given.

    Blob ids of files unchanged since the last ``git add`` come from the index; modified,
    conflicted and untracked files are hashed with ``git hash-object`` (clean filters applied).
    Deleted files are absent. Symlinks and submodules are skipped.
    """
    spec = ["--", *paths] if paths else []
    with ThreadPoolExecutor(max_workers=2) as pool:
        staged = pool.submit(git.run, ["ls-files", "-s", "-z", *spec], repo)
        changed = pool.submit(
            git.run, ["ls-files", "-z", "-m", "-o", "--exclude-standard", *spec], repo
        )
        staged_out, changed_out = staged.result().stdout, changed.result().stdout
    files: dict[str, SourceFile] = {}
    rehash: set[str] = set()
    for record in _split(staged_out):
        meta, _, path = record.partition("\t")
        mode, blob, stage = meta.split(" ")
        language = language_for_path(path)
        if language is None or mode not in _REGULAR_MODES:
            continue
        if stage != "0":
            rehash.add(path)
        else:
            files[path] = SourceFile(path, blob, language.name)
    rehash.update(p for p in _split(changed_out) if language_for_path(p) is not None)
    for path, blob in _hash_objects(repo, sorted(rehash)).items():
        files[path] = SourceFile(path, blob, files[path].language if path in files else _lang(path))
    for path in rehash:
        if not os.path.isfile(repo / path) and path in files:
            del files[path]
    return files


def tree_files(repo: Path, treeish: str) -> dict[str, SourceFile]:
    """The source files of a commit or tree, by path (``git ls-tree -r``)."""
    out = git.run(["ls-tree", "-r", "-z", treeish], repo).stdout
    files: dict[str, SourceFile] = {}
    for record in _split(out):
        meta, _, path = record.partition("\t")
        mode, kind, blob = meta.split(" ")
        language = language_for_path(path)
        if language is not None and kind == "blob" and mode in _REGULAR_MODES:
            files[path] = SourceFile(path, blob, language.name)
    return files


def read_blobs(repo: Path, blobs: list[str]) -> dict[str, bytes]:
    """The contents of the given blob ids, read in one ``git cat-file --batch``."""
    if not blobs:
        return {}
    out = git.run(["cat-file", "--batch"], repo, input="\n".join(blobs).encode() + b"\n").stdout
    contents: dict[str, bytes] = {}
    pos = 0
    while pos < len(out):
        header_end = out.index(b"\n", pos)
        oid, kind, *rest = out[pos:header_end].decode().split(" ")
        if kind == "missing":
            pos = header_end + 1
            continue
        size = int(rest[0])
        contents[oid] = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return contents


def disk_reader(repo: Path) -> Callable[[SourceFile], bytes | None]:
    """Reads a file's current bytes from the working tree (None if it is gone)."""

    def read(file: SourceFile) -> bytes | None:
        try:
            return (repo / file.path).read_bytes()
        except OSError:
            return None

    return read


def blob_reader(repo: Path) -> Callable[[SourceFile], bytes | None]:
    """Reads a file's blob from the object database (None if git does not have it)."""

    def read(file: SourceFile) -> bytes | None:
        return read_blobs(repo, [file.blob]).get(file.blob)

    return read


def _hash_objects(repo: Path, paths: list[str]) -> dict[str, str]:
    existing = [p for p in paths if os.path.isfile(repo / p) and not os.path.islink(repo / p)]
    if not existing:
        return {}
    out = git.out(["hash-object", "--stdin-paths"], repo, input="\n".join(existing).encode())
    return dict(zip(existing, out.split("\n"), strict=True))


def _lang(path: str) -> str:
    language = language_for_path(path)
    assert language is not None  # only paths with a known language reach here
    return language.name


def _split(out: bytes) -> list[str]:
    return [r for r in out.decode("utf-8", errors="surrogateescape").split("\0") if r]
