"""The index's SQLite file: parsed facts keyed by git blob id, and the working tree's file list.

``blobs`` is a content-addressed cache: a (blob, language) pair is parsed once, whatever path or
commit it appears under. Each blob's definitions and references are stored packed in one column
(``marshal`` of the extractor's row tuples): every reader wants all of a file's facts at once,
and writing a quarter of a million rows would dominate a cold index (packed, Django's facts
write in milliseconds and load in a tenth of a second). ``files`` is the working-tree snapshot
the last update saw. A change to the extractor (its code, its queries, the marshal format)
empties the cache.
"""

from __future__ import annotations

import hashlib
import marshal
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crewchief.intel.extract import DefRow, RefRow
from crewchief.intel.sources import SourceFile

_META = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
_TABLES = (
    """CREATE TABLE blobs(
        blob TEXT NOT NULL, language TEXT NOT NULL, status TEXT NOT NULL, facts BLOB NOT NULL,
        PRIMARY KEY(blob, language)) WITHOUT ROWID""",
    # size and mtime_ns are the file's stat when it was recorded: a hint for what changed.
    """CREATE TABLE files(
        path TEXT PRIMARY KEY, blob TEXT NOT NULL, language TEXT NOT NULL,
        size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL) WITHOUT ROWID""",
)
_VERSION_FILES = ("extract.py", "languages.py", "store.py", "queries")

#: A recorded working-tree file and its (size, mtime_ns) when recorded.
RecordedFile = tuple[SourceFile, tuple[int, int]]
#: One parsed blob: (blob, language, status, ``pack_facts(defs, refs)``).
#: status is "ok", "error" (parsed with syntax errors) or "skipped" (too large, minified, unread).
ParsedBlob = tuple[str, str, str, bytes]


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """The facts stored for one blob."""

    status: str
    defs: list[DefRow]
    refs: list[RefRow]


def extractor_version() -> str:
    """A digest of the code and queries that produce the stored facts."""
    digest = hashlib.sha256(f"marshal {marshal.version}".encode())
    here = Path(__file__).parent
    for name in _VERSION_FILES:
        target = here / name
        for path in sorted(target.glob("*.scm")) if target.is_dir() else [target]:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def connect(db_path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the index database in WAL mode.

    The index is a cache that can always be rebuilt from git, so it is written without fsync
    (``synchronous=OFF``: half the commit time of a cold index); a file an OS crash left
    unreadable, or one written by other extractor or store code, is rebuilt empty.
    """
    _make_ignored_dir(db_path.parent)
    try:
        return _open(db_path)
    except sqlite3.DatabaseError:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        return _open(db_path)


def _open(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute(_META)
    version = extractor_version()
    row = conn.execute("SELECT value FROM meta WHERE key='extractor'").fetchone()
    if row is None or row[0] != version:
        with transaction(conn):
            conn.execute("DROP TABLE IF EXISTS blobs")
            conn.execute("DROP TABLE IF EXISTS files")
            for table in _TABLES:
                conn.execute(table)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('extractor', ?)", (version,))
    return conn


def _make_ignored_dir(folder: Path) -> None:
    """Create ``folder``; a new one gets a ``.gitignore`` of ``*`` so git never lists it."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


class transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def is_known(conn: sqlite3.Connection, key: tuple[str, str]) -> bool:
    """Whether this (blob, language) pair has been parsed."""
    sql = "SELECT 1 FROM blobs WHERE blob=? AND language=?"
    return conn.execute(sql, key).fetchone() is not None


def known_blobs(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Every (blob, language) pair already parsed."""
    return set(conn.execute("SELECT blob, language FROM blobs"))


def pack_facts(defs: list[DefRow], refs: list[RefRow]) -> bytes:
    """The stored form of a blob's facts."""
    return marshal.dumps((defs, refs))


def write_parsed(conn: sqlite3.Connection, parsed: Iterable[ParsedBlob]) -> None:
    """Store newly parsed blobs (inside the caller's transaction)."""
    conn.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)", parsed)


def stored_files(conn: sqlite3.Connection) -> dict[str, RecordedFile]:
    """The working-tree snapshot the last update recorded, with each file's stat then."""
    rows = conn.execute("SELECT path, blob, language, size, mtime_ns FROM files")
    return {p: (SourceFile(p, b, lang), (size, mtime)) for p, b, lang, size, mtime in rows}


def replace_files(
    conn: sqlite3.Connection,
    upserts: Iterable[tuple[SourceFile, tuple[int, int]]],
    removals: Iterable[str],
) -> None:
    """Record changed paths with their stat, and removed paths (in the caller's transaction)."""
    conn.executemany("DELETE FROM files WHERE path=?", [(p,) for p in removals])
    conn.executemany(
        "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
        [(f.path, f.blob, f.language, *stat) for f, stat in upserts],
    )


def collect_garbage(
    conn: sqlite3.Connection,
    known: set[tuple[str, str]],
    live: set[tuple[str, str]],
    keep_ratio: float = 1.0,
) -> int:
    """Drop cached blobs no longer in the working tree once they outnumber ``keep_ratio`` × live.

    ``known`` is every cached (blob, language) pair, ``live`` those the working tree uses.
    Blobs of other snapshots (a base commit a drift check parsed) stay useful for a while;
    collecting only past a ratio keeps the work amortised. Returns how many were dropped.
    """
    orphans = known - live
    if len(orphans) <= keep_ratio * max(len(live), 1):
        return 0
    conn.executemany("DELETE FROM blobs WHERE blob=? AND language=?", orphans)
    return len(orphans)


def load_blobs(
    conn: sqlite3.Connection, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], StoredBlob]:
    """The stored facts of those (blob, language) pairs that have been parsed.

    A few keys are looked up one by one through the primary key; many are read in one table
    scan, which is far faster than thousands of point queries.
    """
    wanted = set(keys)
    if len(wanted) <= _POINT_QUERIES:
        point = f"{_SELECT} WHERE blob=? AND language=?"
        rows = [row for key in wanted for row in conn.execute(point, key)]
    else:
        rows = [row for row in conn.execute(_SELECT) if (row[0], row[1]) in wanted]
    result: dict[tuple[str, str], StoredBlob] = {}
    for blob, language, status, facts in rows:
        defs, refs = marshal.loads(facts)
        result[(blob, language)] = StoredBlob(status, defs, refs)
    return result


_POINT_QUERIES = 200
_SELECT = "SELECT blob, language, status, facts FROM blobs"
