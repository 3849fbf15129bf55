"""The project's own description for the manager model, and a skeleton when there is none.

``read_project_summary`` returns what the project says about itself (ARCHITECTURE.md, AGENTS.md,
CLAUDE.md at the repository root). ``write_architecture_skeleton`` drafts ARCHITECTURE.md from
the index (packages, entry points, main dependency edges) and never overwrites an existing file.
"""

from __future__ import annotations

import ast
import json
import tomllib
from collections import defaultdict
from pathlib import Path

from crewchief.intel.index import SymbolIndex
from crewchief.intel.rank import rank
from crewchief.intel.snapshot import Snapshot

SUMMARY_FILES = ("ARCHITECTURE.md", "AGENTS.md", "CLAUDE.md")
MAX_SUMMARY_CHARS = 24_000
MAX_PACKAGES = 25
MAX_EDGES = 20
#: A name defined in more files than this does not count as a dependency edge.
_EDGE_DEFINERS = 2


def read_project_summary(repo: Path, *, max_chars: int = MAX_SUMMARY_CHARS) -> str | None:
    """The contents of ARCHITECTURE.md, AGENTS.md and CLAUDE.md (those present), or None.

    Several files are joined under ``# <file name>`` headings, in that order; the result is cut
    to ``max_chars`` with a note saying so.
    """
    found = [
        (name, (repo / name).read_text(errors="replace"))
        for name in SUMMARY_FILES
        if (repo / name).is_file()
    ]
    if not found:
        return None
    text = found[0][1] if len(found) == 1 else "\n\n".join(f"# {n}\n\n{t}" for n, t in found)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n\n[cut at {max_chars} characters]\n"
    return text


def write_architecture_skeleton(repo: Path, *, snapshot: Snapshot | None = None) -> Path | None:
    """Write ``<repo>/ARCHITECTURE.md`` from the index if it does not exist; its path, or None.

    Never overwrites: an existing file (even one created concurrently) is left alone and None is
    returned. Without ``snapshot`` the repository is indexed first.
    """
    target = repo / "ARCHITECTURE.md"
    if target.exists():
        return None
    if snapshot is None:
        with SymbolIndex(repo) as index:
            index.update()
            snapshot = index.snapshot()
    text = architecture_skeleton(repo, snapshot)
    try:
        with target.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        return None
    return target


def architecture_skeleton(repo: Path, snapshot: Snapshot) -> str:
    """The skeleton's Markdown: packages by rank, entry points, main dependency edges."""
    packages = _packages(snapshot)
    sections = [
        "# Architecture\n",
        "A skeleton drafted by crewchief from the source tree: correct it, expand it, keep it "
        "short. crewchief reads this file to brief its planner and never overwrites it.\n",
        "## Packages\n",
        *(_package_line(repo, snapshot, d, files) for d, files in packages),
        "\n## Entry points\n",
        *(f"- {e}" for e in _entry_points(repo, snapshot) or ["(none found)"]),
        "\n## Main dependency edges\n",
        "Package → package it uses most (by references to names defined there).\n",
        *(f"- `{a}` → `{b}` ({n} uses)" for a, b, n in _edges(snapshot) or []),
    ]
    return "\n".join(sections).rstrip() + "\n"


def _packages(snapshot: Snapshot) -> list[tuple[str, list[str]]]:
    ranking = rank(snapshot)
    weight: dict[str, float] = defaultdict(float)
    files: dict[str, list[str]] = defaultdict(list)
    for path, score in ranking.files:
        folder = path.rpartition("/")[0] or "."
        weight[folder] += score
        files[folder].append(path)
    top = sorted(weight, key=lambda d: (-weight[d], d))[:MAX_PACKAGES]
    return [(d, files[d]) for d in sorted(top)]


def _package_line(repo: Path, snapshot: Snapshot, folder: str, files: list[str]) -> str:
    languages = sorted({snapshot.files[f].language for f in files})
    line = f"- `{folder}/` ({', '.join(languages)}, {len(files)} files)"
    init = f"{folder}/__init__.py" if folder != "." else "__init__.py"
    doc = _module_docstring(snapshot.source(init)) if init in snapshot.files else ""
    return f"{line}: {doc}" if doc else line


def _module_docstring(source: str | None) -> str:
    try:
        doc = ast.get_docstring(ast.parse(source or "")) or ""
    except SyntaxError:
        return ""
    return doc.strip().split("\n")[0]


def _entry_points(repo: Path, snapshot: Snapshot) -> list[str]:
    found: list[str] = []
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        try:
            scripts = tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {})
        except tomllib.TOMLDecodeError:
            scripts = {}
        found += [f"`{name}` → `{target}` (pyproject.toml)" for name, target in scripts.items()]
    package_json = repo / "package.json"
    if package_json.is_file():
        try:
            manifest = json.loads(package_json.read_text())
        except json.JSONDecodeError:
            manifest = {}
        bins = manifest.get("bin", {})
        bins = {manifest.get("name", "bin"): bins} if isinstance(bins, str) else bins
        found += [f"`{name}` → `{target}` (package.json)" for name, target in bins.items()]
    for path in snapshot.paths:
        if path.endswith("__main__.py"):
            found.append(f"`{path}`")
        for d in snapshot.definitions(path, name="main"):
            if d.qualname.count(".") <= 1 and d.kind in ("function", "method"):
                found.append(f"`{path}:{d.line_start}` `{d.signature}`")
    return found


def _edges(snapshot: Snapshot) -> list[tuple[str, str, int]]:
    definers: dict[str, set[str]] = defaultdict(set)
    for d in snapshot.definitions():
        definers[d.name].add(d.path.rpartition("/")[0] or ".")
    weights: dict[tuple[str, str], int] = defaultdict(int)
    for path in snapshot.paths:
        here = path.rpartition("/")[0] or "."
        for name, uses in snapshot.name_counts(path).items():
            targets = definers.get(name, set())
            if len(targets) <= _EDGE_DEFINERS:
                for there in targets - {here}:
                    weights[(here, there)] += uses
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:MAX_EDGES]
    return [(a, b, n) for (a, b), n in ranked]
