"""What the models see of the repository: the project summary, a symbol map of the focus area for
the manager, and a task's snippets for a worker.

The symbols come from ``crewchief.intel`` (symbol index, ranked repo map, context packer). When
that package is not importable, the seam falls back to plain files: the file list for the
manager and the owned files' text, cut to the budget, for a worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from crewchief import git

if TYPE_CHECKING:
    from crewchief.intel.snapshot import Snapshot

#: Files a project keeps its own summary in, read in this order when present.
SUMMARY_FILES = ("ARCHITECTURE.md", "AGENTS.md", "CLAUDE.md")
#: Characters of project summary shown to the manager.
SUMMARY_CHARS = 12_000
#: Characters per token of the fallback estimate (intel calibrates the real one).
_CHARS_PER_TOKEN = 4


def project_summary(repo: Path, limit: int = SUMMARY_CHARS) -> str:
    """The project's own summary files (ARCHITECTURE.md, AGENTS.md, CLAUDE.md), cut to ``limit``
    characters ("" if there are none)."""
    try:
        from crewchief.intel.summary import read_project_summary
    except ImportError:
        return _summary_files(repo, limit)
    return read_project_summary(repo, max_chars=limit) or ""


def _summary_files(repo: Path, limit: int) -> str:
    parts = []
    for name in SUMMARY_FILES:
        if (repo / name).is_file():
            parts.append(f"# {name}\n\n" + (repo / name).read_text(errors="replace"))
    text = "\n\n".join(parts)
    return text[:limit] + ("\n[… cut]" if len(text) > limit else "")


def tracked_files(repo: Path, rev: str = "HEAD") -> list[str]:
    """Every file in ``rev``'s tree (repository-relative POSIX paths)."""
    out = git.run(["ls-tree", "-r", "-z", "--name-only", rev], repo).stdout
    return [p for p in out.decode(errors="surrogateescape").split("\0") if p]


def file_list(files: Sequence[str], focus: Sequence[str], limit: int) -> str:
    """At most ``limit`` paths, those under ``focus`` first; a last line says how many were cut."""
    in_focus = [f for f in files if _under(f, focus)]
    rest = [f for f in files if not _under(f, focus)]
    shown = (in_focus + rest)[:limit]
    more = len(files) - len(shown)
    return "\n".join(shown) + (f"\n… and {more} more files" if more > 0 else "")


def symbol_map(repo: Path, focus: Sequence[str], tokens: int) -> tuple[str, str | None]:
    """(the ranked symbol map of the working tree at ``repo`` towards ``focus``, None) or ("",
    why there is none)."""
    try:
        from crewchief.intel.index import SymbolIndex
        from crewchief.intel.repomap import repo_map

        with SymbolIndex(repo) as index:
            index.update()
            return repo_map(index.snapshot(), focus=list(focus), tokens=tokens).text, None
    except Exception as e:  # the map only helps: planning goes on with the file list alone
        return "", f"no symbol map: {type(e).__name__}: {e}"


def base_snapshot(worktree: Path, base: str) -> tuple[Snapshot | None, str | None]:
    """(symbols of commit ``base``, cached in the main repository's index, None), or (None, why
    there are none)."""
    try:
        from crewchief.intel.index import SymbolIndex

        db = git.common_dir(worktree).parent / ".crewchief" / "index.db"
        with SymbolIndex(worktree, db_path=db) as index:
            return index.tree_snapshot(base), None
    except Exception as e:  # the index only helps: the worker falls back to its owned files
        return None, f"no symbol index: {type(e).__name__}: {e}"


def task_snippets(
    snapshot: Snapshot | None,
    worktree: Path,
    owned: Sequence[str],
    symbols: Sequence[str],
    tokens: int,
) -> str:
    """The code a worker needs for its task within ``tokens``: with intel, the owned symbols'
    source and the signatures of what they call and what calls them; without, the owned files."""
    if snapshot is not None:
        from crewchief.intel.packer import pack_context
        from crewchief.intel.tokens import CharEstimate

        # The calibrated estimate rarely undercounts and spares each worker process loading a
        # BPE table (about 0.16 s of CPU per attempt, measured by bench/swarm.py's profile).
        counter = CharEstimate()
        packed = pack_context(snapshot, list(owned), list(symbols), budget=tokens, counter=counter)
        text = packed.render()
        if text.strip():
            return text
    return _owned_files_text(worktree, owned, tokens * _CHARS_PER_TOKEN)


def lookup_symbol(snapshot: Snapshot | None, worktree: Path, name: str, limit: int) -> str:
    """Where ``name`` is defined and its signature (and docstring), at most ``limit`` results."""
    if snapshot is None:
        proc = git.run(
            ["grep", "-n", "-I", "-E", rf"(def|class|func|fn)\s+{name}\b"], worktree, check=False
        )
        return proc.stdout.decode(errors="replace")[:4000] or f"no definition of {name} found"
    found = snapshot.definitions(name=name) or [
        d for d in snapshot.definitions() if d.qualname == name
    ]
    lines = [
        f"{d.path}:{d.line_start}-{d.line_end} {d.kind} {d.qualname}: {d.signature}"
        + (f"\n    {d.docstring[:300]}" if d.docstring else "")
        for d in found[:limit]
    ]
    more = f"\n… {len(found) - limit} more" if len(found) > limit else ""
    return "\n".join(lines) + more if lines else f"no definition of {name} found"


def _owned_files_text(worktree: Path, owned: Sequence[str], chars: int) -> str:
    parts: list[str] = []
    used = 0
    for rel in owned:
        path = worktree / rel
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        room = max(0, chars - used)
        if room <= 0:
            parts.append(f"### {rel}\n[not shown: budget used; read it with read_file]")
            continue
        cut = "\n[… cut: read the rest with read_file]" if len(text) > room else ""
        parts.append(f"### {rel}\n```\n{text[:room]}{cut}\n```")
        used += min(len(text), room)
    return "\n\n".join(parts)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
