"""The context packer: what a worker needs to see for its task, within a token budget.

For a task's owned files and the symbols it concerns, in this order of priority:
1. the full source of those symbols (every symbol of the owned files if none is named);
2. the signature and docstring of what they call (nearest definition of each name first);
3. the signature and docstring of their callers (same file, then same directory, then others).
Pieces are taken in that order while they fit; a named symbol whose source does not fit is shown
by its signature instead, so every symbol the task names is always present. The result records
what was included, what was cut for budget, and which tokenizer counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from crewchief.intel.languages import language_family
from crewchief.intel.records import Definition, Reference
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.sources import under
from crewchief.intel.tokens import TokenCounter, default_counter
from crewchief.records import Record

Role = Literal["target", "callee", "caller"]
Detail = Literal["source", "signature"]

DEFAULT_BUDGET = 4000
#: At most this many definitions are shown for one called name (the nearest ones).
MAX_CANDIDATES = 2
#: A name defined in more files than this is ambiguous: only same-file or same-directory
#: definitions of it count as callees, and only same-directory references as callers.
AMBIGUOUS_DEFINERS = 8
MAX_CALLERS_PER_TARGET = 12
_DOC_CHARS = 300
_CALL_KINDS = ("call", "type", "name")
_FENCE = {
    "python": "python",
    "javascript": "javascript",
    "typescript": "typescript",
    "tsx": "tsx",
    "go": "go",
    "rust": "rust",
    "java": "java",
}


class PackedItem(Record):
    """One piece of packed context: a symbol, why it is there, and how it is shown."""

    key: str
    path: str
    qualname: str
    role: Role
    detail: Detail
    line_start: int
    line_end: int
    tokens: int
    text: str


class PackedContext(Record):
    """A task's context: included pieces in prompt order, pieces cut for budget, the count.

    ``tokens`` is ``tokenizer``'s count of ``render()``; it never exceeds ``budget`` unless the
    named symbols' signatures alone do. ``exact_tokens`` is False when ``tokenizer`` is the
    calibrated character estimate rather than a real tokenizer.
    """

    owned_paths: tuple[str, ...]
    requested: tuple[str, ...]
    missing: tuple[str, ...]
    included: tuple[PackedItem, ...]
    cut: tuple[PackedItem, ...]
    tokens: int
    budget: int
    tokenizer: str
    exact_tokens: bool

    def render(self) -> str:
        """The context as prompt text: owned source, then callees, then callers."""
        sections = [
            ("Code you own (full source)", "target"),
            ("What it calls (signatures)", "callee"),
            ("What calls it (signatures)", "caller"),
        ]
        parts = []
        for title, role in sections:
            items = [i.text for i in self.included if i.role == role]
            if items:
                joiner = "\n" if role == "target" else ""
                parts.append(f"## {title}\n\n" + joiner.join(items))
        return "\n".join(parts)


def pack_context(
    snapshot: Snapshot,
    owned_paths: Sequence[str],
    symbols: Sequence[str] = (),
    *,
    budget: int = DEFAULT_BUDGET,
    counter: TokenCounter | None = None,
) -> PackedContext:
    """Pack the context for a task owning ``owned_paths`` and concerning ``symbols``.

    ``owned_paths`` are files or directories (ending in ``/`` or not); ``symbols`` are names or
    qualnames (``Cart.add``) defined in them. Named symbols not found are listed in ``missing``.
    """
    counter = counter or default_counter()
    targets, missing = select_targets(snapshot, owned_paths, symbols)
    candidates = [
        *(_item(snapshot, d, "target", "source", counter) for d in targets),
        *(_item(snapshot, d, "callee", "signature", counter) for d in callees(snapshot, targets)),
        *(_item(snapshot, d, "caller", "signature", counter) for d in callers(snapshot, targets)),
    ]
    named = {d.key for d in targets} if symbols else set()
    included, cut = _fit(snapshot, candidates, named, budget, counter)
    context = PackedContext(
        owned_paths=tuple(owned_paths),
        requested=tuple(symbols),
        missing=tuple(missing),
        included=tuple(included),
        cut=tuple(cut),
        tokens=0,
        budget=budget,
        tokenizer=counter.name,
        exact_tokens=counter.exact,
    )
    tokens = counter.count(context.render())
    while tokens > budget and context.included and context.included[-1].key not in named:
        # Token counts of pieces add up only approximately: drop from the end until it fits.
        context = context.model_copy(
            update={"included": context.included[:-1], "cut": (*context.cut, context.included[-1])}
        )
        tokens = counter.count(context.render())
    return context.model_copy(update={"tokens": tokens})


def select_targets(
    snapshot: Snapshot, owned_paths: Sequence[str], symbols: Sequence[str]
) -> tuple[list[Definition], list[str]]:
    """The owned definitions a task concerns (outermost only), and the names not found."""
    owned = [d for p in snapshot.paths if under(p, owned_paths) for d in snapshot.definitions(p)]
    if symbols:
        wanted = set(symbols)
        chosen = [d for d in owned if d.name in wanted or d.qualname in wanted]
        found = {d.name for d in chosen} | {d.qualname for d in chosen}
        missing = [s for s in symbols if s not in found]
    else:
        chosen, missing = owned, []
    keys = {d.key for d in chosen}
    outermost = [d for d in chosen if not _has_ancestor_in(d, keys)]
    return outermost, missing


def callees(snapshot: Snapshot, targets: Sequence[Definition]) -> list[Definition]:
    """Definitions the targets' bodies use, in order of first use, targets themselves excluded."""
    exclude = {d.key for d in targets}
    uses = sorted(
        (r for t in targets for r in snapshot.calls_from(t) if r.kind in _CALL_KINDS),
        key=lambda r: (_CALL_KINDS.index(r.kind), r.path, r.line),
    )
    return _unique(d for r in uses for d in resolve_callee(snapshot, r) if d.key not in exclude)


def resolve_callee(snapshot: Snapshot, use: Reference) -> list[Definition]:
    """The nearest definitions a use may mean, in the user's language family.

    A plain name (not a call or a type) counts only when defined in the same file or directory,
    and so does a name defined in more than ``AMBIGUOUS_DEFINERS`` files.
    """
    family = language_family(snapshot.files[use.path].language)
    found = [
        d for d in snapshot.resolve(use.name, use.path) if language_family(d.language) == family
    ]
    folder = use.path.rpartition("/")[0]
    if use.kind == "name" or len({d.path for d in found}) > AMBIGUOUS_DEFINERS:
        found = [d for d in found if d.path.rpartition("/")[0] == folder]
    return found[:MAX_CANDIDATES]


def callers(snapshot: Snapshot, targets: Sequence[Definition]) -> list[Definition]:
    """Definitions whose bodies use a target's name, nearest first, at most a few per target.

    Only code of the target's language family counts; for an ambiguous name (defined in more
    than ``AMBIGUOUS_DEFINERS`` files) only code in the target's directory.
    """
    exclude = {d.key for d in targets}
    found: list[Definition] = []
    for target in targets:
        folder = target.path.rpartition("/")[0]
        family = language_family(target.language)
        definers = {d.path for d in snapshot.definitions(name=target.name)}
        ambiguous = len(definers) > AMBIGUOUS_DEFINERS
        refs = [
            r
            for r in snapshot.callers(target)
            if r.scope
            and language_family(snapshot.files[r.path].language) == family
            and not (ambiguous and r.path.rpartition("/")[0] != folder)
        ]
        refs.sort(
            key=lambda r: (
                r.path != target.path,
                r.path.rpartition("/")[0] != folder,
                r.path,
                r.line,
            )
        )
        scopes = _unique(
            d for r in refs if (d := snapshot.definition(r.path, r.scope)) and d.key not in exclude
        )
        found.extend(scopes[:MAX_CALLERS_PER_TARGET])
    return _unique(found)


def _fit(
    snapshot: Snapshot,
    candidates: list[PackedItem],
    named: set[str],
    budget: int,
    counter: TokenCounter,
) -> tuple[list[PackedItem], list[PackedItem]]:
    included: list[PackedItem] = []
    cut: list[PackedItem] = []
    used = _SECTION_OVERHEAD
    seen: set[str] = set()
    for item in candidates:
        if item.key in seen:
            continue
        if used + item.tokens > budget and item.key in named and item.detail == "source":
            definition = snapshot.definition(item.path, item.qualname)
            if definition is not None:
                cut.append(item)
                item = _item(snapshot, definition, item.role, "signature", counter)
        if used + item.tokens <= budget or item.key in named:
            included.append(item)
            seen.add(item.key)
            used += item.tokens
        else:
            cut.append(item)
    return included, cut


#: Tokens reserved for section headings and separators.
_SECTION_OVERHEAD = 30


def _item(
    snapshot: Snapshot, d: Definition, role: Role, detail: Detail, counter: TokenCounter
) -> PackedItem:
    source = snapshot.source_lines(d) if detail == "source" else None
    if source is None:
        detail = "signature"
        text = _signature_text(d)
    else:
        fence = _FENCE.get(d.language, "")
        text = f"{d.path} lines {d.line_start}-{d.line_end} ({d.qualname}):\n```{fence}\n"
        text += source.rstrip("\n") + "\n```\n"
    return PackedItem(
        key=d.key,
        path=d.path,
        qualname=d.qualname,
        role=role,
        detail=detail,
        line_start=d.line_start,
        line_end=d.line_end,
        tokens=counter.count(text) + 1,
        text=text,
    )


def _signature_text(d: Definition) -> str:
    line = f"- {d.path}:{d.line_start} {d.qualname}: `{d.signature or d.name}`"
    doc = d.docstring.split("\n\n")[0].replace("\n", " ").strip()
    if doc:
        line += f" — {doc[:_DOC_CHARS]}"
    return line + "\n"


def _has_ancestor_in(d: Definition, keys: set[str]) -> bool:
    parts = d.qualname.split(".")
    return any(f"{d.path}::{'.'.join(parts[:i])}" in keys for i in range(1, len(parts)))


def _unique(defs: Iterable[Definition]) -> list[Definition]:
    seen: dict[str, Definition] = {}
    for d in defs:
        seen.setdefault(d.key, d)
    return list(seen.values())
