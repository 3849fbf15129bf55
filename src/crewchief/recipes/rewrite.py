"""An ast-grep pattern → rewrite engine over one source text, built on ast-grep-py.

ast-grep-py finds matches but does not fill a rewrite template (``node.replace`` inserts the text
verbatim), so the template is expanded here:

- ``$NAME``, ``$$NAME`` and ``$$$NAME`` in the rewrite take the source text the pattern captured
  under NAME; a ``$$$`` capture is the original span from its first to its last node, separators,
  comments and line breaks included; an empty ``$$$`` capture expands to nothing. Names starting
  with ``_`` are not captured by ast-grep and cannot be used in a rewrite.
- Nested matches (``f(f(x))`` for ``f($A)``; ``find_all`` returns both, outermost first) are all
  rewritten in a single pass over the original tree: an outer match is replaced, and the text
  each of its captures brings along is rendered with the matches inside it rewritten too. Every
  original match is rewritten at most once (no fixpoint loop, so a rewrite that still matches
  its own pattern cannot run away); a match inside the part of an outer match that the template
  drops is dropped with it.
- Line breaks in the template follow the file (``\\r\\n`` files get ``\\r\\n``) and each new
  line is indented like the line the match starts on. Captured text is inserted verbatim.

Offsets from ast-grep-py are character (not byte) indices into the Python string; everything
outside the matches is copied through unchanged, so a file's bytes change only at matches.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from ast_grep_py import Pattern, SgNode, SgRoot

from crewchief.errors import UserError
from crewchief.recipes.languages import Language, resolve_language

_METAVAR = re.compile(r"\$\$\$([A-Z_][A-Z0-9_]*)|\$\$?([A-Z_][A-Z0-9_]*)")
_BARE_METAVAR = re.compile(r"\s*(\$\$\$|\$\$?)[A-Z_][A-Z0-9_]*\s*")
_BOM = "\ufeff"
#: ast-grep's own stand-in for ``$`` in languages where ``$NAME`` is not an identifier.
_EXPANDO = "µ"


@dataclass(frozen=True)
class _Ref:
    name: str


@dataclass(frozen=True)
class Rule:
    """A checked pattern → rewrite for one language; build it with ``compile_rule``."""

    language: Language
    pattern: str
    rewrite: str
    template: tuple[str | _Ref, ...]
    selector: str | None = None

    def matcher(self) -> str | Pattern:
        """What ``find_all(pattern=...)`` takes: the pattern, or with a selector the pattern as
        context and the selected node kind inside it as the match."""
        if self.selector is None:
            return self.pattern
        return Pattern(context=self.pattern, selector=self.selector, strictness=None)

    @property
    def matches_everything(self) -> bool:
        """Whether the pattern is one bare metavariable (legal, but it matches every node)."""
        return _BARE_METAVAR.fullmatch(self.pattern) is not None

    def parses_cleanly(self) -> bool:
        """Whether the pattern parses as a complete fragment of its language (a hint only:
        ast-grep still runs patterns with parse errors, and they usually match nothing)."""
        root = SgRoot(self.pattern.replace("$", _EXPANDO), self.language.name).root()
        return root.find(kind="ERROR") is None


def _error_reason(exc: RuntimeError) -> str:
    """The innermost cause of an ast-grep error, without its backtrace."""
    causes = re.findall(r"^\s*\d+: (.+)$", str(exc).split("Stack backtrace")[0], re.MULTILINE)
    return causes[-1].strip() if causes else str(exc).splitlines()[0]


def _parse_template(rewrite: str) -> tuple[str | _Ref, ...]:
    parts: list[str | _Ref] = []
    text = rewrite.replace("\r\n", "\n")
    pos = 0
    for m in _METAVAR.finditer(text):
        parts.extend([text[pos : m.start()], _Ref(m.group(1) or m.group(2))])
        pos = m.end()
    parts.append(text[pos:])
    return tuple(p for p in parts if p != "")


def compile_rule(lang: str, pattern: str, rewrite: str, selector: str | None = None) -> Rule:
    """Check ``pattern`` and ``rewrite`` for ``lang``; UserError with one line on bad input.

    With ``selector`` (a node kind), ``pattern`` is parsed as context and the node of that kind
    in it is what gets matched: ``fmt.Println($$$A)`` alone parses as a type conversion in Go,
    ``func t() { fmt.Println($$$A) }`` with selector ``call_expression`` is the call.

    Refused: an unknown language, a blank pattern, a pattern ast-grep cannot build a matcher from
    (no AST node, several top-level nodes, an unknown selector kind), a rewrite using a
    metavariable the pattern does not capture.
    """
    language = resolve_language(lang)
    if not pattern.strip():
        raise UserError("codemod: the pattern is empty")
    rule = Rule(language, pattern, rewrite, _parse_template(rewrite), selector)
    try:
        SgRoot("", language.name).root().find_all(pattern=rule.matcher())
    except RuntimeError as exc:
        reason = _error_reason(exc)
        raise UserError(f"invalid {language.name} pattern {pattern!r}: {reason}") from exc
    captured = {a or b for a, b in _METAVAR.findall(pattern)}
    for part in rule.template:
        if isinstance(part, _Ref) and (part.name not in captured or part.name.startswith("_")):
            raise UserError(
                f"rewrite {rewrite!r} uses ${part.name}, which pattern {pattern!r} does not capture"
            )
    return rule


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    captures: dict[str, tuple[int, int]]
    indent: str


def _capture(node: SgNode, name: str) -> tuple[int, int] | None:
    single = node.get_match(name)
    if single is not None:
        r = single.range()
        return r.start.index, r.end.index
    nodes = node.get_multiple_matches(name)
    if not nodes:
        return None
    return nodes[0].range().start.index, nodes[-1].range().end.index


def _find(rule: Rule, source: str) -> list[_Match]:
    """Matches sorted by start, longer first; ties keep ast-grep's order (ancestors first)."""
    names = {p.name for p in rule.template if isinstance(p, _Ref)}
    found = []
    for node in SgRoot(source, rule.language.name).root().find_all(pattern=rule.matcher()):
        r = node.range()
        spans = {n: span for n in names if (span := _capture(node, n)) is not None}
        line_start = source.rfind("\n", 0, r.start.index) + 1
        indent = re.match(r"[ \t]*", source[line_start : r.start.index])
        found.append(_Match(r.start.index, r.end.index, spans, indent.group() if indent else ""))
    return sorted(found, key=lambda m: (m.start, -m.end))


class _Renderer:
    """Renders a span of the source with every outermost match inside it rewritten."""

    def __init__(self, rule: Rule, source: str, matches: list[_Match]) -> None:
        self.rule = rule
        self.source = source
        self.matches = matches
        self.starts = [m.start for m in matches]
        self.newline = "\r\n" if "\r\n" in source else "\n"
        self.applied = 0

    def render(self, lo: int, hi: int, after: int) -> str:
        """Source ``[lo, hi)`` with the matches listed after index ``after`` rewritten."""
        out: list[str] = []
        cursor = lo
        for i in range(max(after + 1, bisect.bisect_left(self.starts, lo)), len(self.matches)):
            m = self.matches[i]
            if m.start >= hi:
                break
            if m.start < cursor or m.end > hi:
                continue
            out += [self.source[cursor : m.start], self._expand(i)]
            cursor = m.end
        out.append(self.source[cursor:hi])
        return "".join(out)

    def _expand(self, index: int) -> str:
        m = self.matches[index]
        self.applied += 1
        out: list[str] = []
        for part in self.rule.template:
            if isinstance(part, str):
                out.append(part.replace("\n", self.newline + m.indent))
            elif (span := m.captures.get(part.name)) is not None:
                out.append(self.render(span[0], span[1], index))
        return "".join(out)


def count_matches(rule: Rule, source: str) -> int:
    """How many nodes of ``source`` the pattern matches (nested ones included)."""
    return len(SgRoot(source, rule.language.name).root().find_all(pattern=rule.matcher()))


def apply(rule: Rule, source: str) -> tuple[str, int]:
    """``source`` rewritten, and how many matches were rewritten (see the module docstring)."""
    matches = _find(rule, source)
    if not matches:
        return source, 0
    renderer = _Renderer(rule, source, matches)
    return renderer.render(0, len(source), -1), renderer.applied


def decode(data: bytes) -> str:
    """UTF-8 text of ``data`` without a leading BOM; UnicodeDecodeError if it is not UTF-8."""
    return data.decode("utf-8").removeprefix(_BOM)


def apply_bytes(rule: Rule, data: bytes) -> tuple[bytes, int]:
    """``apply`` on a file's bytes: identical bytes (BOM included) wherever nothing matched.

    UnicodeDecodeError if ``data`` is not UTF-8.
    """
    text = data.decode("utf-8")
    bom = _BOM if text.startswith(_BOM) else ""
    new_text, count = apply(rule, text.removeprefix(bom))
    return (data if count == 0 else (bom + new_text).encode("utf-8")), count
