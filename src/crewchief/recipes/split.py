"""Grouping a recipe's files into tasks: one per file, per directory or per package.

The unit of a ``package`` split, for a file at ``a/b/c/f.ext``:

1. If the file's directory holds a tracked ``__init__.py``, its package is the *outermost*
   directory of the unbroken chain of ``__init__.py`` directories above it (``src/pkg/sub/m.py``
   with ``src/pkg/__init__.py`` and ``src/pkg/sub/__init__.py`` → ``src/pkg``). This applies to
   any file in a Python package, data files included.
2. Otherwise, under a source root (``src``, ``lib``, ``packages``, ``source``) the unit is the
   first directory below that root (``src/app/x.ts`` → ``src/app``; ``packages/ui/src/b.ts`` →
   ``packages/ui``); a file directly in the root belongs to the root (``src/main.go`` → ``src``).
3. Otherwise the first path component (``tests/unit/t.py`` → ``tests``); files at the top of
   the repository form the unit ``.``.

A ``dir`` split groups by the file's own directory (``.`` at the top), a ``file`` split makes one
task per file. Tasks are numbered ``t1``, ``t2``… in the sorted order of their unit names, and
each owns exactly its files (never a directory), so tasks of one plan never overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import JsonValue

from crewchief.recipes.args import Split
from crewchief.records import Risk, Task

SOURCE_ROOTS = frozenset({"src", "lib", "packages", "source"})
ROOT_UNIT = "."


def package_dirs(all_paths: Iterable[str]) -> frozenset[str]:
    """Directories that hold an ``__init__.py`` among ``all_paths`` (``""`` for the top)."""
    return frozenset(
        p.rpartition("/")[0] for p in all_paths if p.rpartition("/")[2] == "__init__.py"
    )


def _package_unit(path: str, init_dirs: frozenset[str]) -> str:
    parent = path.rpartition("/")[0]
    if parent and parent in init_dirs:
        while "/" in parent and parent.rpartition("/")[0] in init_dirs:
            parent = parent.rpartition("/")[0]
        return parent
    parts = path.split("/")
    if parts[0] in SOURCE_ROOTS and len(parts) > 1:
        return "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    return parts[0] if len(parts) > 1 else ROOT_UNIT


def unit_of(path: str, split: Split, init_dirs: frozenset[str]) -> str:
    """The name of the group ``path`` falls in under ``split`` (see the module docstring)."""
    if split == "file":
        return path
    if split == "dir":
        return path.rpartition("/")[0] or ROOT_UNIT
    return _package_unit(path, init_dirs)


def group_files(
    paths: Iterable[str], split: Split, all_paths: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """``paths`` grouped by unit, units and their files sorted; ``all_paths`` finds packages."""
    init_dirs = package_dirs(all_paths)
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(unit_of(p, split, init_dirs), []).append(p)
    return {unit: tuple(sorted(groups[unit])) for unit in sorted(groups)}


@dataclass(frozen=True)
class TaskTemplate:
    """What every task of one recipe plan shares; ``describe`` gives (title, instructions)."""

    backend: str
    spec: dict[str, JsonValue]
    describe: Callable[[str, tuple[str, ...]], tuple[str, str]]
    risk: Risk = "low"


def make_tasks(groups: dict[str, tuple[str, ...]], template: TaskTemplate) -> tuple[Task, ...]:
    """One task per group, in the groups' order, ids ``t1``, ``t2``…, owning exactly its files."""
    tasks = []
    for number, (unit, files) in enumerate(groups.items(), start=1):
        title, instructions = template.describe(unit, files)
        tasks.append(
            Task(
                id=f"t{number}",
                title=title,
                instructions=instructions,
                owned_paths=files,
                risk=template.risk,
                backend=template.backend,
                spec=dict(template.spec),
            )
        )
    return tuple(tasks)


def unit_label(unit: str) -> str:
    """How a unit name reads in a title."""
    return "the repository root" if unit == ROOT_UNIT else unit


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 (``1 file``, ``3 files``, ``2 matches``)."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun}es" if noun.endswith(("s", "sh", "ch", "x")) else f"{n} {noun}s"
