"""The index's SQLite file: parsed facts keyed by git blob id, and the working tree's file list.

``blobs`` and ``defs`` are a content-addressed cache: a (blob, language) pair is parsed once,
whatever path or commit it appears under. References are stored packed per blob (one JSON array
per file) because every reader wants all of a file's references at once and writing hundreds of
thousands of rows would dominate a cold index. ``files`` is the working-tree snapshot the last
update saw. A change to the extractor (its code or queries) empties the cache.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crewchief.intel.extract import DefRow, RefRow
from crewchief.intel.sources import SourceFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs(
    blob TEXT NOT NULL, language TEXT NOT NULL, status TEXT NOT NULL, refs TEXT NOT NULL,
    PRIMARY KEY(blob, language)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS defs(
    blob TEXT NOT NULL, language TEXT NOT NULL, ordinal INTEGER NOT NULL, kind TEXT NOT NULL,
    name TEXT NOT NULL, qualname TEXT NOT NULL, line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL, signature TEXT NOT NULL, docstring TEXT NOT NULL,
    public INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS defs_by_blob ON defs(blob, language);
CREATE INDEX IF NOT EXISTS defs_by_name ON defs(name);
CREATE TABLE IF NOT EXISTS files(
    path TEXT PRIMARY KEY, blob TEXT NOT NULL, language TEXT NOT NULL) WITHOUT ROWID;
"""
_VERSION_FILES = ("extract.py", "languages.py", "queries")

#: One parsed blob: (blob, language, status, def rows, refs packed as JSON).
#: status is "ok", "error" (parsed with syntax errors) or "skipped" (too large, minified, unread).
ParsedBlob = tuple[str, str, str, list[DefRow], str]


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """The facts stored for one blob."""

    status: str
    defs: list[DefRow]
    refs: list[RefRow]


def extractor_version() -> str:
    """A digest of the code and queries that produce the stored facts."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _VERSION_FILES:
        target = here / name
        for path in sorted(target.glob("*.scm")) if target.is_dir() else [target]:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def connect(db_path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the index database in WAL mode; stale caches are emptied."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.executescript(_SCHEMA)
    version = extractor_version()
    row = conn.execute("SELECT value FROM meta WHERE key='extractor'").fetchone()
    if row is None or row[0] != version:
        with transaction(conn):
            conn.execute("DELETE FROM blobs")
            conn.execute("DELETE FROM defs")
            conn.execute("DELETE FROM files")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('extractor', ?)", (version,))
    return conn


class transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def known_blobs(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Every (blob, language) pair already parsed."""
    return set(conn.execute("SELECT blob, language FROM blobs"))


def write_parsed(conn: sqlite3.Connection, parsed: Iterable[ParsedBlob]) -> None:
    """Store newly parsed blobs (inside the caller's transaction, which listed them as unknown)."""
    parsed = list(parsed)
    conn.executemany(
        "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
        [(blob, language, status, refs) for blob, language, status, _, refs in parsed],
    )
    conn.executemany(
        "INSERT INTO defs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(blob, language, *row) for blob, language, _, defs, _ in parsed for row in defs],
    )


def stored_files(conn: sqlite3.Connection) -> dict[str, SourceFile]:
    """The working-tree snapshot the last update recorded."""
    return {p: SourceFile(p, b, lang) for p, b, lang in conn.execute("SELECT * FROM files")}


def replace_files(
    conn: sqlite3.Connection, upserts: Iterable[SourceFile], removals: Iterable[str]
) -> None:
    """Record changed and removed working-tree paths (inside the caller's transaction)."""
    conn.executemany("DELETE FROM files WHERE path=?", [(p,) for p in removals])
    conn.executemany(
        "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
        [(f.path, f.blob, f.language) for f in upserts],
    )


def collect_garbage(
    conn: sqlite3.Connection, known: set[tuple[str, str]], keep_ratio: float = 1.0
) -> int:
    """Drop cached blobs no longer in the working tree once they outnumber ``keep_ratio`` × live.

    ``known`` is every cached (blob, language) pair. Blobs of other snapshots (a base commit a
    drift check parsed) stay useful for a while; collecting only past a ratio keeps the work
    amortised. Returns how many were dropped.
    """
    live = set(conn.execute("SELECT blob, language FROM files"))
    orphans = known - live
    if len(orphans) <= keep_ratio * max(len(live), 1):
        return 0
    conn.executemany("DELETE FROM blobs WHERE blob=? AND language=?", orphans)
    conn.executemany("DELETE FROM defs WHERE blob=? AND language=?", orphans)
    return len(orphans)


def load_blobs(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], StoredBlob]:
    """The stored facts of those (blob, language) pairs that have been parsed.

    A few keys are looked up one by one through the primary key and index; many are read in one
    table scan each, which is far faster than thousands of point queries.
    """
    wanted = set(keys)
    if len(wanted) <= _POINT_QUERIES:
        blob_rows = [
            row
            for key in wanted
            for row in conn.execute(f"{_BLOBS_SQL} WHERE blob=? AND language=?", key)
        ]
        def_rows = [
            row
            for key in wanted
            for row in conn.execute(f"{_DEFS_SQL} WHERE blob=? AND language=?", key)
        ]
    else:
        blob_rows = [r for r in conn.execute(_BLOBS_SQL) if (r[0], r[1]) in wanted]
        def_rows = [r for r in conn.execute(_DEFS_SQL) if (r[0], r[1]) in wanted]
    result: dict[tuple[str, str], StoredBlob] = {}
    for blob, language, status, refs in blob_rows:
        decoded: list[RefRow] = [tuple(r) for r in json.loads(refs)]
        result[(blob, language)] = StoredBlob(status, [], decoded)
    for row in def_rows:
        stored = result.get((row[0], row[1]))
        if stored is not None:
            stored.defs.append(row[2:])
    for stored in result.values():
        stored.defs.sort()
    return result


_POINT_QUERIES = 200
_BLOBS_SQL = "SELECT blob, language, status, refs FROM blobs"
_DEFS_SQL = "SELECT * FROM defs"
