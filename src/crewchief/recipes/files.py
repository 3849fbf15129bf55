"""Which files a recipe works on: the regular files tracked at HEAD, narrowed by paths and globs.

Recipes plan against the committed tree, not the checkout: a dirty or half-edited working tree
must not change the plan, and workers start from that same commit. Symlinks and submodules are
never listed (a recipe edits file contents only).

Path selectors, shared by ``paths`` and ``glob`` arguments:

- a selector without glob characters names a file or a directory (``src/pkg`` or ``src/pkg/``
  selects everything below it; ``.`` selects everything);
- a selector with ``*``, ``?`` or ``[`` is a glob: ``*`` and ``?`` stay within one path
  component, ``**`` spans any number of components; a glob without ``/`` is matched against the
  file name only (``*.py`` matches ``a/b/c.py``), one with ``/`` against the whole path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from crewchief import git
from crewchief.errors import UserError
from crewchief.recipes.args import RecipeArgs
from crewchief.recipes.languages import Language

_REGULAR_MODES = (b"100644", b"100755")
_BLOB_BATCH = 256
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class TrackedFile:
    """A regular file at HEAD: its repository-relative POSIX path and its blob id."""

    path: str
    oid: str


def tracked_files(repo: Path) -> tuple[TrackedFile, ...]:
    """Every regular file (no symlinks, no submodules) in HEAD's tree, sorted by path.

    UserError if ``repo`` has no commits yet.
    """
    head = git.head_commit(repo)
    raw = git.run(["ls-tree", "-r", "-z", "--full-tree", head], repo).stdout
    found = []
    for entry in raw.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, oid = meta.split(b" ")
        if kind == b"blob" and mode in _REGULAR_MODES:
            found.append(TrackedFile(path.decode(errors="surrogateescape"), oid.decode()))
    return tuple(sorted(found, key=lambda f: f.path))


def read_blobs(repo: Path, files: Sequence[TrackedFile]) -> Iterator[tuple[TrackedFile, bytes]]:
    """Each file with its exact committed bytes, in order, a few hundred per git call."""
    for start in range(0, len(files), _BLOB_BATCH):
        batch = files[start : start + _BLOB_BATCH]
        request = b"".join(f.oid.encode() + b"\n" for f in batch)
        out = git.run(["cat-file", "--batch"], repo, input=request).stdout
        pos = 0
        for f in batch:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split(b" ")[2])
            body_start = header_end + 1
            yield f, out[body_start : body_start + size]
            pos = body_start + size + 1


def _glob_regex(glob: str) -> re.Pattern[str]:
    """A regex for one glob (see the module docstring for the dialect)."""
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            body = glob[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


def _check_selector(selector: str) -> str:
    s = selector.strip()
    if s.startswith("/") or "\\" in s or ".." in s.split("/"):
        raise UserError(f"path {selector!r} must be repository-relative POSIX without '..'")
    return s


def _glob_test(glob: str) -> Callable[[str], bool]:
    rx = _glob_regex(glob.rstrip("/"))
    if "/" in glob:
        return lambda path: rx.fullmatch(path) is not None
    return lambda path: rx.fullmatch(path.rsplit("/", 1)[-1]) is not None


def _prefix_test(prefix: str) -> Callable[[str], bool]:
    d = prefix.rstrip("/").removeprefix("./")
    if d in ("", "."):
        return _everything
    return lambda path: path == d or path.startswith(d + "/")


def path_matcher(selectors: Iterable[str]) -> Callable[[str], bool]:
    """A predicate true for paths any of ``selectors`` selects; UserError on an unsafe selector."""
    tests = [
        _glob_test(s) if _GLOB_CHARS & set(s) else _prefix_test(s)
        for s in map(_check_selector, selectors)
    ]
    return lambda path: any(test(path) for test in tests)


def _describe_selection(
    language: Language | None, paths: Sequence[str], globs: Sequence[str]
) -> str:
    kind = f"{language.name} files" if language else "files"
    where = f" under {', '.join(paths)}" if paths else ""
    named = f" named {', '.join(globs)}" if globs else ""
    return f"no tracked {kind}{where}{named} at HEAD"


def select_files(
    repo: Path, args: RecipeArgs, focus: Sequence[str], language: Language | None
) -> tuple[tuple[str, ...], tuple[TrackedFile, ...]]:
    """(every tracked path, the tracked files the recipe works on) for ``repo`` at HEAD.

    The files are those under ``args`` "paths" (or ``focus`` when "paths" is absent), whose
    names match ``args`` "glob", of ``language`` when given; UserError if that leaves none.
    """
    tracked = tracked_files(repo)
    paths = args.str_list("paths") or tuple(focus)
    globs = args.str_list("glob")
    in_paths = path_matcher(paths) if paths else _everything
    in_globs = path_matcher(globs) if globs else _everything
    chosen = tuple(
        f
        for f in tracked
        if in_paths(f.path)
        and in_globs(f.path)
        and (language is None or language.matches_file(f.path))
    )
    if not chosen:
        raise UserError(f"{args.recipe}: {_describe_selection(language, paths, globs)}")
    return tuple(f.path for f in tracked), chosen


def _everything(path: str) -> bool:
    return True
