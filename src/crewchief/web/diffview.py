"""A patch as the page shows it: files, hunks and lines, syntax-highlighted by Pygments.

Each hunk's old side and new side are highlighted as whole blocks (so a string or docstring that
spans lines stays coloured), then split back into lines. Parsing is crewchief's strict patch parser;
a patch it refuses is shown as plain text with the parser's reason, never hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

from crewchief.gate import patchfile
from crewchief.records import HunkVerdict

LineKind = Literal["add", "del", "ctx", "note"]
CSS_SCOPE = ".diff .code"
_FORMATTER = HtmlFormatter(nowrap=True, classprefix="pg-")


@dataclass(frozen=True)
class Line:
    kind: LineKind
    old: int | None
    new: int | None
    html: Markup


@dataclass(frozen=True)
class HunkView:
    number: int
    header: str
    lines: tuple[Line, ...]
    verdicts: tuple[HunkVerdict, ...]


@dataclass(frozen=True)
class FileView:
    path: str
    old_path: str | None
    kind: str
    binary: bool
    mode: str | None
    added: int
    removed: int
    hunks: tuple[HunkView, ...]
    verdicts: tuple[HunkVerdict, ...] = ()


@dataclass(frozen=True)
class DiffView:
    """A parsed patch; when it could not be parsed, ``error`` says why and ``raw`` holds it."""

    files: tuple[FileView, ...]
    unmatched: tuple[HunkVerdict, ...] = ()
    error: str | None = None
    raw: str = ""

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


def highlight_css() -> str:
    """The token colours of Pygments' default style, scoped to diffs (backgrounds are ours)."""
    rules = str(_FORMATTER.get_style_defs(CSS_SCOPE)).splitlines()  # type: ignore[no-untyped-call]
    return "\n".join(r for r in rules if r.startswith(CSS_SCOPE + " .")) + "\n"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def diff_view(patch: bytes, verdicts: Sequence[HunkVerdict] = ()) -> DiffView:
    """``patch`` for display, with each reviewer's per-hunk verdict beside its hunk. As the
    reviewer numbers them, ``hunk`` counts a file's hunks from 1; 0 is the file as a whole."""
    try:
        sections = patchfile.parse(patch)
    except patchfile.PatchParseError as e:
        return DiffView(files=(), unmatched=tuple(verdicts), error=str(e), raw=_text(patch))
    files = tuple(_file_view(s, verdicts) for s in sections)
    shown = {id(v) for f in files for v in f.verdicts} | {
        id(v) for f in files for h in f.hunks for v in h.verdicts
    }
    unmatched = tuple(v for v in verdicts if id(v) not in shown)
    return DiffView(files=files, unmatched=unmatched)


def _file_view(section: patchfile.FilePatch, verdicts: Sequence[HunkVerdict]) -> FileView:
    new = _text(section.new_path) if section.new_path is not None else None
    old = _text(section.old_path) if section.old_path is not None else None
    path = new or old or "?"
    lexer = _lexer(path)
    mine = [v for v in verdicts if v.path in (new, old)]
    hunks = [
        _hunk_view(n, hunk, lexer, tuple(v for v in mine if v.hunk == n))
        for n, hunk in enumerate(section.hunks, 1)
    ]
    mode = None
    if section.old_mode and section.new_mode and section.old_mode != section.new_mode:
        mode = f"mode {_text(section.old_mode)} → {_text(section.new_mode)}"
    return FileView(
        path=path,
        old_path=old if old != path else None,
        kind=section.kind,
        binary=section.binary,
        mode=mode,
        added=sum(1 for h in hunks for ln in h.lines if ln.kind == "add"),
        removed=sum(1 for h in hunks for ln in h.lines if ln.kind == "del"),
        hunks=tuple(hunks),
        verdicts=tuple(v for v in mine if v.hunk == 0),
    )


def _lexer(path: str) -> Lexer:
    try:
        return get_lexer_for_filename(path, None, stripnl=False, stripall=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, stripall=False, ensurenl=False)


def _content(line: bytes) -> str:
    body = line[1:] if line[:1] != b"\n" else b""
    return _text(body.rstrip(b"\r\n"))


def _highlighted(lines: list[str], lexer: Lexer) -> list[Markup]:
    """Each of ``lines`` as highlighted HTML; plain escaped text if the lexer disagrees."""
    if not lines:
        return []
    html = highlight("\n".join(lines) + "\n", lexer, _FORMATTER).split("\n")
    if len(html) == len(lines) + 1 and html[-1] == "":
        return [Markup(h) for h in html[:-1]]
    return [escape(text) for text in lines]


def _hunk_view(
    number: int, hunk: patchfile.Hunk, lexer: Lexer, verdicts: tuple[HunkVerdict, ...]
) -> HunkView:
    tags = [line[:1] for line in hunk.lines]
    old_side = [_content(ln) for ln, t in zip(hunk.lines, tags, strict=True) if t in b" -\n"]
    new_side = [_content(ln) for ln, t in zip(hunk.lines, tags, strict=True) if t in b" +\n"]
    old_html, new_html = iter(_highlighted(old_side, lexer)), iter(_highlighted(new_side, lexer))
    old_no, new_no = hunk.old_start, hunk.new_start
    out: list[Line] = []
    for line, tag in zip(hunk.lines, tags, strict=True):
        if tag == b"+":
            out.append(Line("add", None, new_no, next(new_html)))
            new_no += 1
        elif tag == b"-":
            out.append(Line("del", old_no, None, next(old_html)))
            old_no += 1
        elif tag in (b" ", b"\n"):
            next(old_html)
            out.append(Line("ctx", old_no, new_no, next(new_html)))
            old_no, new_no = old_no + 1, new_no + 1
        else:
            out.append(Line("note", None, None, escape(_content(line))))
    header = f"@@ -{hunk.old_start},{hunk.old_count} +{hunk.new_start},{hunk.new_count} @@"
    return HunkView(number=number, header=header, lines=tuple(out), verdicts=verdicts)
