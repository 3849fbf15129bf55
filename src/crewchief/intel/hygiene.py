"""Continuous hygiene: find duplicated functions and turn them into small refactor tasks for
workers to propose patches and the manager to triage (the seed's "junior cleanup crew with a
lead keeping score"). The finding is deterministic; the refactoring is the workers' job.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from crewchief.errors import UserError
from crewchief.ledger.read import LedgerReader
from crewchief.records import ChangeRequest, Plan, Task

#: Shortest body (lines of code, after normalization) worth a refactor task.
MIN_BODY_LINES = 5
_COMMENT = re.compile(r"^\s*(/\*|\*).*$|\s*(#|//).*$")
_STRING = re.compile(
    r"(\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*')"
)
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
_NUMBER = re.compile(r"\b\d[\d_.]*\b")


@dataclass(frozen=True)
class Site:
    path: str
    qualname: str
    line_start: int
    line_end: int


@dataclass(frozen=True)
class Duplicate:
    """Functions with the same body up to names and literals; ``key`` identifies the group."""

    key: str
    sites: tuple[Site, ...]


def normalized_body(source: str) -> list[str]:
    """The body of a function (its header line dropped) with comments, blank lines, names,
    strings and numbers abstracted away: two bodies that only rename things compare equal."""
    body = _STRING.sub("S", "\n".join(source.splitlines()[1:]))
    lines = [_COMMENT.sub("", line).strip() for line in body.splitlines()]
    lines = [line for line in lines if line]
    return [_NUMBER.sub("N", _NAME.sub("x", line)) for line in lines]


def find_duplicates(repo: Path) -> list[Duplicate]:
    """Duplicated functions and methods in ``repo``'s tracked code, largest groups first."""
    from crewchief.intel.index import SymbolIndex

    groups: dict[str, list[Site]] = defaultdict(list)
    with SymbolIndex(repo) as index:
        index.update()
        snapshot = index.snapshot()
        for d in snapshot.definitions():
            if d.kind not in ("function", "method"):
                continue
            body = normalized_body(snapshot.source_lines(d) or "")
            if len(body) >= MIN_BODY_LINES:
                digest = hashlib.sha256("\n".join(body).encode()).hexdigest()[:16]
                groups[digest].append(Site(d.path, d.qualname, d.line_start, d.line_end))
    found = [
        Duplicate(k, tuple(sorted(v, key=lambda s: (s.path, s.line_start))))
        for k, v in groups.items()
        if len(v) > 1
    ]
    return sorted(found, key=lambda d: (-len(d.sites), d.sites[0].path, d.sites[0].line_start))


class DuplicationPlanner:
    """A Planner: one small refactor task per duplicated group not proposed before."""

    name = "hygiene:duplicates"

    def __init__(self, backend: str, max_tasks: int, seen: set[str]) -> None:
        self.backend, self.max_tasks, self.seen = backend, max_tasks, seen

    def plan(self, request: ChangeRequest, repo: Path) -> Plan:
        fresh = [d for d in find_duplicates(repo) if d.key not in self.seen]
        taken: set[str] = set()
        tasks: list[Task] = []
        for dup in fresh:
            files = sorted({s.path for s in dup.sites})
            if taken & set(files) or len(tasks) >= self.max_tasks:
                continue  # one task per file per sweep keeps tasks parallel and small
            taken |= set(files)
            tasks.append(_task(f"d{len(tasks) + 1}", dup, files, self.backend))
        if not tasks:
            raise NothingToDo("no new duplication found")
        return Plan(
            goal=request.goal,
            planner=self.name,
            tasks=tuple(tasks),
            parallel_groups=(tuple(t.id for t in tasks),),
            files=tuple(sorted(taken)),
            risks=("refactors keep behaviour only as far as the tests say",),
        )


class NothingToDo(UserError):
    """A sweep that found nothing new: not a failure."""

    exit_code = 0


def _task(task_id: str, dup: Duplicate, files: list[str], backend: str) -> Task:
    where = "; ".join(f"{s.qualname} in {s.path}:{s.line_start}-{s.line_end}" for s in dup.sites)
    return Task(
        id=task_id,
        title=f"deduplicate {', '.join(s.qualname for s in dup.sites)}",
        instructions=(
            f"These functions have the same body: {where}. Remove the duplication: "
            "keep one implementation and make the others use it (or extract a shared "
            "helper in one of these files). Keep every public name, signature and "
            "behaviour as it is; change nothing else."
        ),
        owned_paths=tuple(files),
        risk="low",
        backend=backend,
        spec={"hygiene_key": dup.key},
    )


def proposed_keys(ledger: LedgerReader) -> set[str]:
    """Duplicates already turned into tasks by earlier sweeps (not proposed twice)."""
    keys: set[str] = set()
    for run in ledger.runs():
        try:
            plan = ledger.plan(run.id)
        except UserError:
            continue
        keys |= {str(t.spec["hygiene_key"]) for t in plan.tasks if "hygiene_key" in t.spec}
    return keys
