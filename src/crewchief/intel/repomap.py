"""The repository map: the best-ranked symbols' signatures, grouped by file, within a token budget.

    src/shop/cart.py
      class Cart  # L12
        def add(self, item: Item, qty: int = 1) -> None  # L20

Files appear in the order of their best symbol; inside a file, symbols keep source order and a
shown member brings its container's header along so the nesting stays readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crewchief.intel.rank import RankedSymbol, Ranking, rank
from crewchief.intel.records import Definition
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.tokens import TokenCounter, default_counter

#: Give up filling the budget after this many symbols in a row did not fit.
_MAX_MISSES = 50


@dataclass(frozen=True, slots=True)
class RepoMap:
    """A rendered map: its text, its size, and what it covers."""

    text: str
    tokens: int
    budget: int
    counter: str
    exact_tokens: bool
    shown: tuple[str, ...]
    total_symbols: int


def repo_map(
    snapshot: Snapshot,
    *,
    focus: Sequence[str] = (),
    tokens: int = 2048,
    counter: TokenCounter | None = None,
) -> RepoMap:
    """Rank ``snapshot`` towards ``focus`` and render the map within ``tokens``."""
    return render_map(rank(snapshot, focus), tokens, counter or default_counter())


def render_map(ranking: Ranking, budget: int, counter: TokenCounter) -> RepoMap:
    """Take ranked symbols greedily while their lines fit ``budget``; render them grouped by file.

    The text's token count (by ``counter``) never exceeds ``budget``.
    """
    by_key = {s.definition.key: s.definition for s in ranking.symbols}
    chosen: dict[str, list[Definition]] = {}
    shown: list[str] = []
    used = misses = 0
    for ranked in ranking.symbols:
        lines = _lines_needed(ranked, chosen, by_key)
        cost = sum(counter.count(text) + 1 for _, text in lines)
        if used + cost > budget:
            misses += 1
            if misses >= _MAX_MISSES:
                break
            continue
        misses = 0
        used += cost
        shown.append(ranked.definition.key)
        for definition, _ in lines:
            if definition is not None:
                chosen.setdefault(definition.path, []).append(definition)
            else:
                chosen.setdefault(ranked.definition.path, [])
    text = _render(chosen, by_key)
    while text and counter.count(text) > budget:
        last = by_key[shown.pop()]
        chosen[last.path] = [d for d in chosen[last.path] if d != last]
        if not chosen[last.path]:
            del chosen[last.path]
        text = _render(chosen, by_key)
    return RepoMap(
        text,
        counter.count(text),
        budget,
        counter.name,
        counter.exact,
        tuple(shown),
        len(ranking.symbols),
    )


def _lines_needed(
    ranked: RankedSymbol, chosen: dict[str, list[Definition]], by_key: dict[str, Definition]
) -> list[tuple[Definition | None, str]]:
    """The new lines showing ``ranked`` costs: file header, missing containers, the symbol."""
    d = ranked.definition
    present = chosen.get(d.path)
    lines: list[tuple[Definition | None, str]] = []
    if present is None:
        lines.append((None, f"{d.path}\n"))
    parts = d.qualname.split(".")
    for depth in range(1, len(parts)):
        container = by_key.get(f"{d.path}::{'.'.join(parts[:depth])}")
        if container is not None and (present is None or container not in present):
            lines.append((container, _line(container, by_key)))
    if present is None or d not in present:
        lines.append((d, _line(d, by_key)))
    return lines


def _line(d: Definition, by_key: dict[str, Definition]) -> str:
    """``d``'s map line, indented once per definition it lies inside (a Go method or a Rust
    ``impl`` member is named after its type but not nested in it, so it is not indented)."""
    parts = d.qualname.split(".")
    depth = 1
    for i in range(1, len(parts)):
        outer = by_key.get(f"{d.path}::{'.'.join(parts[:i])}")
        if outer is not None and outer.line_start <= d.line_start <= outer.line_end:
            depth += 1
    return f"{'  ' * depth}{d.signature or d.name}  # L{d.line_start}"


def _render(chosen: dict[str, list[Definition]], by_key: dict[str, Definition]) -> str:
    blocks = []
    for path, defs in chosen.items():
        unique = sorted(set(defs), key=lambda d: (d.line_start, d.qualname))
        blocks.append("\n".join([path, *(_line(d, by_key) for d in unique)]))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
