"""Which source files a snapshot of the repository has, and their git blob ids.

Two kinds of snapshot: the working tree (what the user or a worker sees now: the index's entries,
with modified and untracked-but-not-ignored files hashed afresh) and a commit or tree (``git
ls-tree -r``). Files git ignores are never listed; only files in a language the index knows are.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from crewchief import git
from crewchief.intel.languages import LANGUAGES, language_for_path

_REGULAR_MODES = frozenset({b"100644", b"100755"})
_SHA256_HEX = 64
_EXTENSIONS = b"|".join(re.escape(e[1:].encode()) for spec in LANGUAGES for e in spec.extensions)
_ENTRY_BLOB = re.compile(rb"\d{6} ([0-9a-f]+) ")
#: One ``ls-files -s -z`` record whose path has a known extension: mode, blob, stage, path.
_SOURCE_ENTRY = re.compile(rb"(\d{6}) ([0-9a-f]+) (\d)\t([^\0]*\.(?i:" + _EXTENSIONS + rb"))\0")


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

    Blob ids of files unchanged since the last ``git add`` come from the index. Modified,
    conflicted and untracked (not ignored) files are hashed in process exactly as git hashes a
    blob, without clean filters: where eol or filter attributes apply, their key differs from
    git's, which costs one re-parse later, never a wrong fact. Deleted files are absent;
    symlinks and submodules are skipped. The three listings run concurrently.
    """
    spec = ["--", *paths] if paths else []
    commands = (
        ["ls-files", "-s", "-z", *spec],
        ["ls-files", "-z", "-m", *spec],
        ["ls-files", "-z", "-o", "--exclude-standard", *spec],
    )
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        staged, modified, untracked = [pool.submit(git.run, c, repo) for c in commands]
        files, rehash, algorithm = _index_entries(staged.result().stdout)
        changed = modified.result().stdout + untracked.result().stdout
    rehash.update(p for p in _split(changed) if language_for_path(p) is not None)
    for path in rehash:
        rehashed = hash_file(repo / path, algorithm)
        if rehashed is None:
            files.pop(path, None)
        else:
            files[path] = SourceFile(path, rehashed, _lang(path))
    return files


def _index_entries(out: bytes) -> tuple[dict[str, SourceFile], set[str], str]:
    """Source files of ``ls-files -s -z`` output, conflicted paths, and the hash algorithm.

    One regular-expression pass picks the records with a known extension, so that the tree's
    other files (often the majority) cost no Python work.
    """
    files: dict[str, SourceFile] = {}
    rehash: set[str] = set()
    first = _ENTRY_BLOB.match(out)
    algorithm = "sha256" if first and len(first.group(1)) == _SHA256_HEX else "sha1"
    for mode, blob, stage, raw in _SOURCE_ENTRY.findall(out):
        path = raw.decode("utf-8", errors="surrogateescape")
        language = language_for_path(path)
        if language is None or mode not in _REGULAR_MODES:
            continue
        if stage != b"0":
            rehash.add(path)
        else:
            files[path] = SourceFile(path, blob.decode(), language.name)
    return files, rehash, algorithm


def file_stat(path: str | Path) -> tuple[int, int]:
    """(size, mtime_ns) of a file, (-1, -1) if it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def hash_file(path: Path, algorithm: str = "sha1") -> str | None:
    """The git blob id of a regular file's bytes (None for a symlink or a missing file)."""
    if path.is_symlink():
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return blob_id(data, algorithm)


def blob_id(data: bytes, algorithm: str = "sha1") -> str:
    """What ``git hash-object`` prints for these bytes (no filters)."""
    return hashlib.new(algorithm, b"blob %d\0" % len(data) + data).hexdigest()


def tree_files(repo: Path, treeish: str) -> dict[str, SourceFile]:
    """The source files of a commit or tree, by path (``git ls-tree -r``)."""
    out = git.run(["ls-tree", "-r", "-z", treeish], repo).stdout
    files: dict[str, SourceFile] = {}
    for record in _split(out):
        meta, _, path = record.partition("\t")
        mode, kind, blob = meta.split(" ")
        language = language_for_path(path)
        if language is not None and kind == "blob" and mode.encode() in _REGULAR_MODES:
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


def _lang(path: str) -> str:
    language = language_for_path(path)
    assert language is not None  # only paths with a known language reach here
    return language.name


def _split(out: bytes) -> list[str]:
    return [r for r in out.decode("utf-8", errors="surrogateescape").split("\0") if r]
