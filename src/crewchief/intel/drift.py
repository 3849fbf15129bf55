"""Signature drift: which public symbols a change breaks, and which tasks lean on them.

A change is a base commit plus either a patch (``git diff --binary`` bytes) or a second commit.
The patch is applied to the base tree in a throwaway index (``git apply --cached``), never to a
checkout. Only changed files are parsed, and only their public definitions are compared: a
public symbol whose signature differs, that disappeared (or stopped being public), or whose file
moved is reported. A task is affected when code under its owned or context paths, at the base
commit, refers to the name of a reported symbol (in the same language family). Matching is by
name, so it errs towards reporting: a method ``add`` matches every use of ``add``.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from crewchief import git
from crewchief.errors import UserError
from crewchief.intel.index import SymbolIndex
from crewchief.intel.languages import language_family, language_for_path
from crewchief.intel.records import Definition
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.sources import SourceFile, under
from crewchief.records import Record

ChangeKind = Literal["signature", "removed", "moved"]
#: (task id, owned paths, context paths): what a plan's task may touch and read.
TaskPaths = tuple[str, Sequence[str], Sequence[str]]


class SignatureChange(Record):
    """One public symbol a change breaks for its users.

    ``old_signature``/``new_signature`` join overloads (several definitions of one qualname)
    with `` | ``; ``new_path`` is set when the symbol's file was renamed.
    """

    path: str
    qualname: str
    name: str
    kind: str
    language: str
    change: ChangeKind
    old_signature: str
    new_signature: str | None = None
    new_path: str | None = None


class AffectedTask(Record):
    """A task whose code refers to changed symbols: which ones, from where (path:line)."""

    task_id: str
    symbols: tuple[str, ...]
    evidence: tuple[str, ...]


class DriftReport(Record):
    """Everything ``detect_drift`` found for one change."""

    base: str
    changes: tuple[SignatureChange, ...]
    affected: tuple[AffectedTask, ...]


def detect_drift(
    index: SymbolIndex,
    base: str,
    *,
    patch: bytes | None = None,
    head: str | None = None,
    tasks: Sequence[TaskPaths] = (),
) -> DriftReport:
    """Signature changes from ``base`` to ``head`` (or ``base`` + ``patch``), and affected tasks."""
    changes = signature_changes(index, base, patch=patch, head=head)
    affected = affected_tasks(index, base, changes, tasks)
    return DriftReport(base=base, changes=changes, affected=affected)


def signature_changes(
    index: SymbolIndex, base: str, *, patch: bytes | None = None, head: str | None = None
) -> tuple[SignatureChange, ...]:
    """Public symbols whose signature changed, that were removed, or whose file moved.

    Exactly one of ``patch`` and ``head`` must be given. UserError if the patch does not apply.
    """
    if (patch is None) == (head is None):
        raise ValueError("give exactly one of patch and head")
    new_tree = head if head is not None else _apply_to_tree(index.repo, base, patch or b"")
    old_files, new_files, moves = _changed_files(index.repo, base, new_tree)
    old = index.files_snapshot(old_files)
    new = index.files_snapshot(new_files)
    changes: list[SignatureChange] = []
    for path in sorted(old_files):
        new_path = moves.get(path, path)
        changes.extend(_compare(old.definitions(path), new.definitions(new_path), new_path))
    return tuple(changes)


def affected_tasks(
    index: SymbolIndex, base: str, changes: Sequence[SignatureChange], tasks: Sequence[TaskPaths]
) -> tuple[AffectedTask, ...]:
    """Tasks whose owned or context code at ``base`` refers to a changed symbol's name."""
    if not changes or not tasks:
        return ()
    by_name: dict[str, list[SignatureChange]] = defaultdict(list)
    for change in changes:
        by_name[change.name].append(change)
    roots = [p for _, owned, context in tasks for p in (*owned, *context)]
    snapshot = index.tree_snapshot(base, paths=roots)
    affected = []
    for task_id, owned, context in tasks:
        hit = _task_hits(snapshot, [*owned, *context], by_name)
        if hit:
            symbols = tuple(sorted({key for key, _ in hit}))
            evidence = tuple(sorted({where for _, where in hit}))
            affected.append(AffectedTask(task_id=task_id, symbols=symbols, evidence=evidence))
    return tuple(affected)


def _task_hits(
    snapshot: Snapshot, roots: Sequence[str], by_name: dict[str, list[SignatureChange]]
) -> list[tuple[str, str]]:
    hits: list[tuple[str, str]] = []
    for path in snapshot.paths:
        if not under(path, roots):
            continue
        family = language_family(snapshot.files[path].language)
        for ref in snapshot.references(path=path):
            for change in by_name.get(ref.name, []):
                if language_family(change.language) == family:
                    hits.append((f"{change.path}::{change.qualname}", f"{path}:{ref.line}"))
    return hits


def _compare(
    old_defs: list[Definition], new_defs: list[Definition], new_path: str
) -> list[SignatureChange]:
    old_sigs = _public_signatures(old_defs)
    new_sigs = _public_signatures(new_defs)
    found = []
    for qualname, (first, signatures) in old_sigs.items():
        now = new_sigs.get(qualname)
        moved = new_path if new_path != first.path else None
        base = {
            "path": first.path,
            "qualname": qualname,
            "name": first.name,
            "kind": first.kind,
            "language": first.language,
            "old_signature": " | ".join(signatures),
        }
        if now is None:
            found.append(SignatureChange(change="removed", **base))
        elif now[1] != signatures:
            new_signature = " | ".join(now[1])
            found.append(
                SignatureChange(
                    change="signature", new_signature=new_signature, new_path=moved, **base
                )
            )
        elif moved is not None:
            found.append(SignatureChange(change="moved", new_path=moved, **base))
    return found


def _public_signatures(
    defs: list[Definition],
) -> dict[str, tuple[Definition, tuple[str, ...]]]:
    grouped: dict[str, list[Definition]] = defaultdict(list)
    for d in defs:
        if d.public:
            grouped[d.qualname].append(d)
    return {q: (ds[0], tuple(sorted(d.signature for d in ds))) for q, ds in grouped.items()}


def _apply_to_tree(repo: Path, base: str, patch: bytes) -> str:
    """The tree of ``base`` with ``patch`` applied, built in a temporary index file."""
    with tempfile.TemporaryDirectory(prefix="crewchief-drift-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.run(["read-tree", base], repo, env=env)
        applied = git.run(
            ["apply", "--cached", "--binary", "-"], repo, input=patch, env=env, check=False
        )
        if applied.returncode != 0:
            reason = applied.stderr.decode(errors="replace").strip()
            raise UserError(f"the patch does not apply to {base}: {reason}")
        return git.run(["write-tree"], repo, env=env).stdout.decode().strip()


def _changed_files(
    repo: Path, base: str, new_tree: str
) -> tuple[dict[str, SourceFile], dict[str, SourceFile], dict[str, str]]:
    """Old and new versions of the source files that changed, and old path -> new path moves."""
    out = git.run(["diff-tree", "-r", "-z", "--find-renames", base, new_tree], repo).stdout
    fields = out.decode("utf-8", errors="surrogateescape").split("\0")
    old: dict[str, SourceFile] = {}
    new: dict[str, SourceFile] = {}
    moves: dict[str, str] = {}
    i = 0
    while i < len(fields) - 1:
        _, _, old_blob, new_blob, status = fields[i].lstrip(":").split(" ")
        paths = fields[i + 1 : i + (3 if status[0] in "RC" else 2)]
        i += 1 + len(paths)
        old_path, new_path = paths[0], paths[-1]
        if status[0] != "A" and (spec := language_for_path(old_path)) is not None:
            old[old_path] = SourceFile(old_path, old_blob, spec.name)
        if status[0] != "D" and (spec := language_for_path(new_path)) is not None:
            new[new_path] = SourceFile(new_path, new_blob, spec.name)
        if status[0] == "R":
            moves[old_path] = new_path
    return old, new, moves
