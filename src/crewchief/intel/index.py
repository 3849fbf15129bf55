"""The symbol index of one repository: ``SymbolIndex`` keeps ``<repo>/.crewchief/index.db`` current.

An update lists the working tree's source files with their git blob ids, parses only blobs the
index has never seen (in a process pool when there are many), and records the new file list.
Nothing is re-parsed for a file whose content is unchanged, whatever happened to its neighbours.

    with SymbolIndex(repo) as index:
        stats = index.update()           # UpdateStats(parsed=3, reused=2820, ...)
        snap = index.snapshot()          # Snapshot: definitions, references, lookups
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from crewchief.intel import sources, store
from crewchief.intel.extract import extract
from crewchief.intel.languages import language_for_path
from crewchief.intel.records import UpdateStats
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.sources import SourceFile

#: Called as (files parsed so far, files to parse) while an update parses.
Progress = Callable[[int, int], None]

DEFAULT_WORKERS = 2
#: Below this many files to parse, a process pool costs more than it saves.
PARALLEL_MIN_FILES = 64
_CHUNK_FILES = 16
#: Files larger than this are generated or data, not code worth a symbol map.
MAX_FILE_BYTES = 1 << 20
_MINIFIED_PROBE = 4096
_MINIFIED_LINE = 1000


def default_db_path(repo: Path) -> Path:
    """Where a repository's index lives: ``<repo>/.crewchief/index.db``."""
    return repo / ".crewchief" / "index.db"


class SymbolIndex:
    """The persistent symbol index of the repository (or worktree) at ``repo``.

    Not thread-safe; open one per thread or process. WAL mode lets other processes read while
    this one writes.
    """

    def __init__(self, repo: Path, *, db_path: Path | None = None) -> None:
        self.repo = repo.resolve()
        self.db_path = db_path or default_db_path(self.repo)
        self._conn: sqlite3.Connection = store.connect(self.db_path)

    def __enter__(self) -> SymbolIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def update(
        self,
        *,
        paths: Sequence[str] | None = None,
        progress: Progress | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> UpdateStats:
        """Bring the index up to date with the working tree; return what it took.

        ``paths`` (files or directories, repository-relative) limits the scan to them: pass the
        paths a patch touched to skip listing the rest of the tree (named files are parsed while
        git lists them). Only blobs never parsed before are parsed; ``UpdateStats.parsed`` says
        how many.
        """
        with _gc_paused():
            return self._update(list(paths) if paths else None, progress, workers)

    def _update(
        self, scope: list[str] | None, progress: Progress | None, workers: int
    ) -> UpdateStats:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=1) as pool:
            listing = pool.submit(sources.worktree_files, self.repo, scope)
            recorded = store.stored_files(self._conn)
            guessed = set(scope or self._stat_changed(recorded))
            early = self._parse_files_early(guessed)
            current = listing.result()
        previous = {p: f for p, (f, _) in recorded.items() if not scope or sources.under(p, scope)}
        with store.transaction(self._conn) as conn:
            known = store.known_blobs(conn)
            todo = _unique(f for f in current.values() if (f.blob, f.language) not in known)
            skipped = _parse_into(conn, todo, self.repo, early, progress, workers)
            removed = [p for p in previous if p not in current]
            # Touched files get their new stat recorded too, so the next guess skips them.
            changed = [
                f for f in current.values() if previous.get(f.path) != f or f.path in guessed
            ]
            root = f"{self.repo}{os.sep}"
            stats = [(f, sources.file_stat(root + f.path)) for f in changed]
            store.replace_files(conn, stats, removed)
            if scope is None:  # a full listing knows every live blob
                live = {(f.blob, f.language) for f in current.values()}
                store.collect_garbage(conn, known | {(f.blob, f.language) for f in todo}, live)
        added = sum(1 for p in current if p not in recorded)
        return UpdateStats(
            files=len(recorded) + added - len(removed),
            parsed=len(todo),
            reused=len(current) - len(todo),
            removed=len(removed),
            skipped=skipped,
            seconds=time.perf_counter() - started,
        )

    def _stat_changed(self, recorded: dict[str, store.RecordedFile]) -> list[str]:
        """Recorded paths whose size or mtime changed since: probably edited.

        Empty when there are so many that the process pool should parse them instead.
        """
        root = f"{self.repo}{os.sep}"
        changed = [
            path for path, (_, stat) in recorded.items() if sources.file_stat(root + path) != stat
        ]
        return changed if len(changed) < PARALLEL_MIN_FILES else []

    def _parse_files_early(self, paths: set[str]) -> dict[tuple[str, str], store.ParsedBlob]:
        """Parse these files if their content is new, keyed by (blob id, language).

        Runs while git lists the tree, so that an update after an edit costs little more than
        the listing. Only a guess: results whose blob git's listing does not confirm (an
        ignored file, a SHA-256 repository) are not used; files git reports and the guess
        missed are parsed afterwards.
        """
        parsed: dict[tuple[str, str], store.ParsedBlob] = {}
        for path in sorted(paths):
            spec = language_for_path(path)
            file = self.repo / path
            if spec is None or file.is_symlink() or not file.is_file():
                continue
            data = file.read_bytes()
            key = (sources.blob_id(data), spec.name)
            if key not in parsed and not store.is_known(self._conn, key):
                parsed[key] = parse_blob(data, *key)
        return parsed

    def snapshot(self) -> Snapshot:
        """The working tree's facts as of the last ``update``.

        Its ``source()`` reads the files from disk now: call ``update`` first if they may have
        changed since.
        """
        with _gc_paused():
            files = {path: file for path, (file, _) in store.stored_files(self._conn).items()}
            keys = {(f.blob, f.language) for f in files.values()}
            stored = store.load_blobs(self._conn, keys)
            return Snapshot(files, stored, sources.disk_reader(self.repo))

    def tree_snapshot(self, treeish: str, paths: Iterable[str] | None = None) -> Snapshot:
        """A commit's (or tree's) source files, limited to ``paths`` if given.

        Blobs never seen are read from git and parsed first, so this works for any commit.
        """
        files = sources.tree_files(self.repo, treeish)
        if paths is not None:
            wanted = list(paths)
            files = {p: f for p, f in files.items() if sources.under(p, wanted)}
        return self.files_snapshot(files)

    def files_snapshot(self, files: dict[str, SourceFile]) -> Snapshot:
        """A snapshot of exactly these files (blobs read from git and parsed when missing)."""
        todo = self._unknown(files.values())
        if todo:
            contents = sources.read_blobs(self.repo, sorted({f.blob for f in todo}))
            with store.transaction(self._conn) as conn:
                todo = self._unknown(files.values())
                _parse_into(conn, todo, self.repo, {}, None, DEFAULT_WORKERS, contents)
        keys = {(f.blob, f.language) for f in files.values()}
        stored = store.load_blobs(self._conn, keys)
        return Snapshot(files, stored, sources.blob_reader(self.repo))

    def _unknown(self, files: Iterable[SourceFile]) -> list[SourceFile]:
        known = store.known_blobs(self._conn)
        return _unique(f for f in files if (f.blob, f.language) not in known)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic tuples.

    The index allocates hundreds of thousands of tuples that can never form cycles; in a
    process that already holds a large heap (a snapshot) a full collection triggered by them
    costs more than the update itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_blob(source: bytes | None, blob: str, language: str) -> store.ParsedBlob:
    """Parse one blob into the row the store keeps; oversized or minified content is skipped."""
    if source is None or _skip(source):
        return (blob, language, "skipped", store.pack_facts([], []))
    facts = extract(source, language)
    status = "error" if facts.has_error else "ok"
    return (blob, language, status, store.pack_facts(list(facts.defs), list(facts.refs)))


def _skip(source: bytes) -> bool:
    if len(source) > MAX_FILE_BYTES:
        return True
    head = source[:_MINIFIED_PROBE]
    return len(head) == _MINIFIED_PROBE and head.count(b"\n") < _MINIFIED_PROBE // _MINIFIED_LINE


def _parse_chunk(
    root: str, chunk: list[tuple[str, str, str, bytes | None]]
) -> list[store.ParsedBlob]:
    """Worker entry point: parse (path, blob, language, content or None to read from disk)."""
    results = []
    for path, blob, language, content in chunk:
        if content is None:
            try:
                with open(os.path.join(root, path), "rb") as fh:
                    content = fh.read(MAX_FILE_BYTES + 1)
            except OSError:
                content = None
        results.append(parse_blob(content, blob, language))
    return results


def _parse_into(
    conn: sqlite3.Connection,
    todo: list[SourceFile],
    repo: Path,
    ready: dict[tuple[str, str], store.ParsedBlob],
    progress: Progress | None,
    workers: int,
    contents: dict[str, bytes] | None = None,
) -> int:
    """Store facts for ``todo``: from ``ready`` if parsed already, else parsed now (content from
    ``contents`` by blob, or the working tree). Returns how many were skipped."""
    done_early = [ready[k] for f in todo if (k := (f.blob, f.language)) in ready]
    store.write_parsed(conn, done_early)
    rest = [f for f in todo if (f.blob, f.language) not in ready]
    jobs = [(f.path, f.blob, f.language, contents.get(f.blob) if contents else None) for f in rest]
    jobs.sort(key=lambda job: _size(repo, job), reverse=True)
    chunks = [jobs[i : i + _CHUNK_FILES] for i in range(0, len(jobs), _CHUNK_FILES)]
    skipped = sum(1 for r in done_early if r[2] == "skipped")
    done = len(done_early)
    if progress:
        progress(done, len(todo))
    pool_size = workers if len(jobs) >= PARALLEL_MIN_FILES else 1
    for results in _run_chunks(str(repo), chunks, pool_size):
        store.write_parsed(conn, results)
        skipped += sum(1 for r in results if r[2] == "skipped")
        done += len(results)
        if progress:
            progress(done, len(todo))
    return skipped


def _run_chunks(
    root: str, chunks: list[list[tuple[str, str, str, bytes | None]]], workers: int
) -> Iterable[list[store.ParsedBlob]]:
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield _parse_chunk(root, chunk)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context()) as pool:
        futures: list[Future[list[store.ParsedBlob]]] = [
            pool.submit(_parse_chunk, root, chunk) for chunk in chunks
        ]
        for future in as_completed(futures):
            yield future.result()


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork is an order of magnitude cheaper to start than spawn; the children only parse
    # and return, so they touch no lock another thread of the parent could hold.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _size(repo: Path, job: tuple[str, str, str, bytes | None]) -> int:
    if job[3] is not None:
        return len(job[3])
    try:
        return os.stat(repo / job[0]).st_size
    except OSError:
        return 0


def _unique(files: Iterable[SourceFile]) -> list[SourceFile]:
    seen: dict[tuple[str, str], SourceFile] = {}
    for f in files:
        seen.setdefault((f.blob, f.language), f)
    return list(seen.values())
