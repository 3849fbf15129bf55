"""An in-memory, read-only view of one snapshot's definitions and references, with lookups.

Built by ``SymbolIndex.snapshot()`` (the working tree) or ``SymbolIndex.tree_snapshot()`` (a
commit). Ranking, packing and drift all read from a Snapshot, never from SQLite directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

from crewchief.intel.extract import RefRow
from crewchief.intel.records import Definition, Reference, RefKind, SymbolKind
from crewchief.intel.sources import SourceFile
from crewchief.intel.store import StoredBlob


class Snapshot:
    """Definitions and references of a set of files, indexed by path and by name.

    Definitions are built eagerly; references (five times as many) only when asked for, per file
    or per name, so that a snapshot of a large tree loads in a fraction of a second.
    """

    def __init__(
        self,
        files: Mapping[str, SourceFile],
        stored: Mapping[tuple[str, str], StoredBlob],
        reader: Callable[[SourceFile], bytes | None] | None = None,
    ) -> None:
        self.files: dict[str, SourceFile] = dict(files)
        self._reader = reader
        self._sources: dict[str, str | None] = {}
        self.status: dict[str, str] = {}
        self._defs_by_path: dict[str, list[Definition]] = {}
        self._defs_by_name: dict[str, list[Definition]] = defaultdict(list)
        self._raw_refs: dict[str, list[RefRow]] = {}
        self._refs_by_path: dict[str, list[Reference]] = {}
        self._raw_by_name: dict[str, list[tuple[str, RefRow]]] | None = None
        for path in sorted(self.files):
            source = self.files[path]
            facts = stored.get((source.blob, source.language))
            if facts is not None:
                self._add(path, source.language, facts)

    def _add(self, path: str, language: str, facts: StoredBlob) -> None:
        self.status[path] = facts.status
        defs = [
            Definition(path, _kind(k), n, q, ls, le, sig, doc, bool(pub), language)
            for _, k, n, q, ls, le, sig, doc, pub in facts.defs
        ]
        self._defs_by_path[path] = defs
        self._raw_refs[path] = facts.refs
        for d in defs:
            self._defs_by_name[d.name].append(d)

    def _refs_of(self, path: str) -> list[Reference]:
        refs = self._refs_by_path.get(path)
        if refs is None:
            refs = [self._reference(path, row) for row in self._raw_refs.get(path, [])]
            refs.sort(key=lambda r: (r.line, r.name, r.kind))
            self._refs_by_path[path] = refs
        return refs

    def _reference(self, path: str, row: RefRow) -> Reference:
        scope, name, kind, line, count = row
        qualname = self._defs_by_path[path][scope].qualname if scope >= 0 else ""
        return Reference(path, qualname, name, _ref_kind(kind), line, count)

    def _refs_named(self, name: str) -> list[Reference]:
        if self._raw_by_name is None:
            index: dict[str, list[tuple[str, RefRow]]] = defaultdict(list)
            for path, rows in self._raw_refs.items():
                for row in rows:
                    index[row[1]].append((path, row))
            self._raw_by_name = index
        found = [self._reference(path, row) for path, row in self._raw_by_name.get(name, [])]
        found.sort(key=lambda r: (r.path, r.line, r.kind))
        return found

    def name_counts(self, path: str) -> dict[str, int]:
        """How often ``path`` uses each name (all scopes and kinds added up)."""
        counts: dict[str, int] = {}
        for row in self._raw_refs.get(path, []):
            counts[row[1]] = counts.get(row[1], 0) + row[4]
        return counts

    def source(self, path: str) -> str | None:
        """A file's text (None if unknown or unreadable), through the snapshot's reader."""
        if path not in self._sources:
            file = self.files.get(path)
            raw = self._reader(file) if file is not None and self._reader is not None else None
            self._sources[path] = raw.decode("utf-8", errors="replace") if raw is not None else None
        return self._sources[path]

    def source_lines(self, definition: Definition) -> str | None:
        """The text of ``definition``'s lines, or None if its file cannot be read."""
        text = self.source(definition.path)
        if text is None:
            return None
        lines = text.splitlines(keepends=True)
        return "".join(lines[definition.line_start - 1 : definition.line_end])

    @property
    def paths(self) -> list[str]:
        """Every indexed path, sorted."""
        return sorted(self._defs_by_path)

    def definitions(self, path: str | None = None, name: str | None = None) -> list[Definition]:
        """Definitions in ``path`` and/or called ``name`` (all of them if neither is given)."""
        if path is not None:
            found = self._defs_by_path.get(path, [])
            return [d for d in found if name is None or d.name == name]
        if name is not None:
            return list(self._defs_by_name.get(name, []))
        return [d for p in self.paths for d in self._defs_by_path[p]]

    def references(self, path: str | None = None, name: str | None = None) -> list[Reference]:
        """References in ``path`` and/or to ``name`` (all of them if neither is given)."""
        if path is not None:
            return [r for r in self._refs_of(path) if name is None or r.name == name]
        if name is not None:
            return self._refs_named(name)
        return [r for p in self.paths for r in self._refs_of(p)]

    def definition(self, path: str, qualname: str) -> Definition | None:
        """The first definition of ``qualname`` in ``path``, or None."""
        return next((d for d in self._defs_by_path.get(path, []) if d.qualname == qualname), None)

    def calls_from(self, symbol: Definition) -> list[Reference]:
        """References made inside ``symbol``'s body (nested definitions included)."""
        prefix = symbol.qualname + "."
        return [
            r
            for r in self._refs_of(symbol.path)
            if r.scope == symbol.qualname or r.scope.startswith(prefix)
        ]

    def callers(self, symbol: Definition) -> list[Reference]:
        """References to ``symbol``'s name from outside its own body, anywhere in the snapshot."""
        prefix = symbol.qualname + "."
        return [
            r
            for r in self._refs_named(symbol.name)
            if not (
                r.path == symbol.path and (r.scope == symbol.qualname or r.scope.startswith(prefix))
            )
        ]

    def resolve(self, name: str, from_path: str) -> list[Definition]:
        """Definitions a use of ``name`` in ``from_path`` may mean, most likely first.

        Resolution is by name: the same file first, then the same directory, then the rest.
        """
        found = self._defs_by_name.get(name, [])
        folder = from_path.rpartition("/")[0]
        return sorted(
            found,
            key=lambda d: (d.path != from_path, d.path.rpartition("/")[0] != folder, d.path),
        )

    def enclosing(self, path: str, line: int) -> Definition | None:
        """The innermost definition in ``path`` whose lines contain ``line``."""
        best: Definition | None = None
        for d in self._defs_by_path.get(path, []):
            if d.line_start <= line <= d.line_end and (
                best is None or d.line_end - d.line_start <= best.line_end - best.line_start
            ):
                best = d
        return best


def _kind(kind: str) -> SymbolKind:
    return kind  # type: ignore[return-value]  # the extractor only emits SymbolKind values


def _ref_kind(kind: str) -> RefKind:
    return kind  # type: ignore[return-value]  # the extractor only emits RefKind values
