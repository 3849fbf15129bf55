"""A strict parser for the patches crewchief produces (``git diff --binary`` with a/ b/ prefixes).

Works on bytes throughout: a patch of Latin-1 or CRLF text is valid for git, so it is valid here,
and nothing is ever decoded and re-encoded. Paths stay bytes; :func:`path_text` decodes one for
display and matching with ``surrogateescape`` (lossless).

The parser accepts exactly the git diff format and nothing else: any line it does not recognise
(text before the first ``diff --git``, a hunk whose line counts do not add up, an unknown extended
header) makes the whole patch malformed. That strictness is the point: ``git apply`` skips lines it
does not understand and goes looking for the next file header, so a lenient reader could be shown
one patch while git applies another.

Why not unidiff: it decodes the patch before parsing, takes names from the ``diff --git`` line only
(``rename from``/``rename to`` are ignored and C-quoted names are not unquoted), and treats unknown
lines as free text; fine for counting hunks, not for deciding what a patch writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FileKind = Literal["modify", "add", "delete", "rename", "copy"]

MODE_FILE = b"100644"
MODE_EXEC = b"100755"
MODE_SYMLINK = b"120000"
MODE_GITLINK = b"160000"
_MODES = frozenset({MODE_FILE, MODE_EXEC, MODE_SYMLINK, MODE_GITLINK})

_DIFF_GIT = b"diff --git "
_HUNK = re.compile(rb"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_INDEX = re.compile(rb"index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?")
_SIMILARITY = re.compile(rb"(?:dis)?similarity index \d{1,3}%")
_BINARY_BLOCK = re.compile(rb"(?:literal|delta) \d+")
_BASE85_LINE = re.compile(rb"[A-Za-z][0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+")
_NO_NEWLINE = b"\\ No newline at end of file"
_C_ESCAPES = {
    b"a": 7,
    b"b": 8,
    b"t": 9,
    b"n": 10,
    b"v": 11,
    b"f": 12,
    b"r": 13,
    b'"': 34,
    b"\\": 92,
}


class PatchParseError(ValueError):
    """The patch is not a well-formed git diff; ``line`` is 1-based (0: the patch as a whole)."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}" if line else reason)


@dataclass(frozen=True)
class Hunk:
    """One ``@@`` block; ``lines`` are raw, each with its prefix byte and line ending."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[bytes, ...]

    def added(self) -> list[tuple[int, bytes]]:
        """(new-side line number, content without the ``+``) of every added line."""
        out: list[tuple[int, bytes]] = []
        lineno = self.new_start
        for line in self.lines:
            if line[:1] == b"+":
                out.append((lineno, line[1:]))
            if line[:1] in (b"+", b" ", b"\n"):
                lineno += 1
        return out

    def new_side(self) -> bytes:
        """The new-side content of this hunk, honouring ``\\ No newline at end of file``."""
        parts: list[bytes] = []
        previous = b""
        for line in self.lines:
            tag = line[:1]
            if tag in (b"+", b" "):
                parts.append(line[1:])
            elif tag == b"\n":
                parts.append(line)
            elif tag == b"\\" and previous in (b"+", b" ", b"\n"):
                parts[-1] = parts[-1].removesuffix(b"\n")
            previous = tag
        return b"".join(parts)


@dataclass(frozen=True)
class FilePatch:
    """One ``diff --git`` section. A path of None is ``/dev/null`` (an added or deleted file).

    A mode of None means the patch does not say (a pure rename keeps the file's mode).
    """

    old_path: bytes | None
    new_path: bytes | None
    old_mode: bytes | None
    new_mode: bytes | None
    kind: FileKind
    binary: bool
    hunks: tuple[Hunk, ...]
    raw: bytes

    def paths(self) -> tuple[bytes, ...]:
        """Every path this section names (old and new), without duplicates."""
        found = [p for p in (self.old_path, self.new_path) if p is not None]
        return tuple(dict.fromkeys(found))


def path_text(path: bytes) -> str:
    """A path as text, losslessly (undecodable bytes become surrogate escapes)."""
    return path.decode("utf-8", "surrogateescape")


def parse(patch: bytes) -> tuple[FilePatch, ...]:
    """Parse a whole patch; PatchParseError if any part of it is not the git diff format."""
    if not patch:
        return ()
    lines = patch.splitlines(keepends=True)
    if not lines[-1].endswith(b"\n"):
        raise PatchParseError(len(lines), "the patch does not end with a newline")
    if not lines[0].startswith(_DIFF_GIT):
        raise PatchParseError(1, "a git patch must start with 'diff --git'")
    starts = [i for i, line in enumerate(lines) if line.startswith(_DIFF_GIT)]
    sections = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        sections.append(_Section(lines, start, end).parse())
    return tuple(sections)


class _Section:
    """The parser state for one ``diff --git`` section: lines[start:end]."""

    def __init__(self, lines: list[bytes], start: int, end: int) -> None:
        self.lines = lines
        self.pos = start
        self.start = start
        self.end = end
        self.old_path: bytes | None = None
        self.new_path: bytes | None = None
        self.old_mode: bytes | None = None
        self.new_mode: bytes | None = None
        self.kind: FileKind = "modify"
        self.binary = False
        self.hunks: list[Hunk] = []
        self.named = False

    def fail(self, reason: str) -> PatchParseError:
        return PatchParseError(self.pos + 1, reason)

    def peek(self) -> bytes | None:
        return self.lines[self.pos] if self.pos < self.end else None

    def take(self) -> bytes:
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def parse(self) -> FilePatch:
        self.old_path, self.new_path = _header_names(self.take()[len(_DIFF_GIT) :])
        self.named = self.old_path is not None
        self._extended_headers()
        self._body()
        return self._finish()

    def _check(self, ok: bool, reason: str) -> None:
        if not ok:
            raise self.fail(reason)

    def _extended_headers(self) -> None:
        renamed: dict[bytes, bytes] = {}
        while (line := self.peek()) is not None and not line.startswith((b"--- ", b"@@", b"GIT ")):
            if line.startswith(b"Binary files "):
                return
            body = _strip_eol(line)
            self._one_header(body, renamed)
            self.pos += 1
        self._apply_renames(renamed)

    def _one_header(self, body: bytes, renamed: dict[bytes, bytes]) -> None:
        for word in (b"rename from ", b"rename to ", b"copy from ", b"copy to "):
            if body.startswith(word):
                self._check(word not in renamed, f"repeated {word.decode().strip()!r}")
                renamed[word] = _unquote(body[len(word) :], self.pos + 1)
                return
        if body.startswith(b"new file mode "):
            self.kind, self.old_path = "add", None
            self.new_mode = self._mode(body[len(b"new file mode ") :])
        elif body.startswith(b"deleted file mode "):
            self.kind, self.new_path = "delete", None
            self.old_mode = self._mode(body[len(b"deleted file mode ") :])
        elif body.startswith(b"old mode "):
            self.old_mode = self._mode(body[len(b"old mode ") :])
        elif body.startswith(b"new mode "):
            self.new_mode = self._mode(body[len(b"new mode ") :])
        elif (m := _INDEX.fullmatch(body)) is not None:
            if m.group(3) is not None:
                mode = self._mode(m.group(3))
                self.old_mode = self.old_mode or (mode if self.kind != "add" else None)
                self.new_mode = self.new_mode or (mode if self.kind != "delete" else None)
        elif _SIMILARITY.fullmatch(body) is None:
            raise self.fail(f"unknown extended header {path_text(body)!r}")

    def _mode(self, text: bytes) -> bytes:
        self._check(text in _MODES, f"unsupported file mode {path_text(text)!r}")
        return text

    def _apply_renames(self, renamed: dict[bytes, bytes]) -> None:
        for kind, src, dst in (
            ("rename", b"rename from ", b"rename to "),
            ("copy", b"copy from ", b"copy to "),
        ):
            if src in renamed or dst in renamed:
                self._check(src in renamed and dst in renamed, f"{kind} without both names")
                self._check(self.kind == "modify", f"{kind} of an added or deleted file")
                names = (renamed[src], renamed[dst])
                self._check(
                    not self.named or (self.old_path, self.new_path) == names,
                    f"{kind} names differ from the 'diff --git' line",
                )
                self.kind = "rename" if kind == "rename" else "copy"
                self.old_path, self.new_path = names
                self.named = True
        self._check(
            not (b"rename from " in renamed and b"copy from " in renamed),
            "both a rename and a copy",
        )

    def _body(self) -> None:
        line = self.peek()
        if line is None:
            return
        if line.startswith(b"Binary files "):
            self.binary = True
            self.pos += 1
        elif line.startswith(b"GIT binary patch"):
            self._check(_strip_eol(line) == b"GIT binary patch", "bad binary patch marker")
            self.pos += 1
            self.binary = True
            self._binary_blocks()
        else:
            self._file_names()
            while self.peek() is not None:
                self.hunks.append(self._hunk())
        self._check(self.peek() is None, "unexpected line after the file's changes")

    def _binary_blocks(self) -> None:
        for block in range(2):
            line = self.peek()
            if line is None and block == 1:
                return
            self._check(
                line is not None and _BINARY_BLOCK.fullmatch(_strip_eol(line)) is not None,
                "expected 'literal N' or 'delta N'",
            )
            self.pos += 1
            while (line := self.peek()) is not None and _strip_eol(line):
                self._check(_BASE85_LINE.fullmatch(_strip_eol(line)) is not None, "bad base85")
                self.pos += 1
            self._check(line is not None, "binary block without its closing blank line")
            self.pos += 1

    def _file_names(self) -> None:
        minus = self.take()
        self._check(minus.startswith(b"--- "), "expected '--- ' line")
        plus = self.peek()
        self._check(plus is not None and plus.startswith(b"+++ "), "expected '+++ ' line")
        self.pos += 1
        assert plus is not None
        old = _line_name(minus[4:], b"a/", self.pos - 1)
        new = _line_name(plus[4:], b"b/", self.pos)
        if not self.named:
            self.old_path, self.new_path, self.named = old, new, True
        self._check((old, new) == (self.old_path, self.new_path), "inconsistent file names")
        self._check(self.peek() is not None, "file header without hunks")

    def _hunk(self) -> Hunk:
        header = self.take()
        m = _HUNK.match(header)
        self._check(m is not None, "expected a hunk header '@@ -a,b +c,d @@'")
        assert m is not None
        old_n = 1 if m.group(2) is None else int(m.group(2))
        new_n = 1 if m.group(4) is None else int(m.group(4))
        body = self._hunk_body(old_n, new_n)
        return Hunk(int(m.group(1)), old_n, int(m.group(3)), new_n, body)

    def _hunk_body(self, old_n: int, new_n: int) -> tuple[bytes, ...]:
        body: list[bytes] = []
        while old_n > 0 or new_n > 0:
            line = self.peek()
            self._check(line is not None, "hunk shorter than its header says")
            assert line is not None
            tag = line[:1]
            if tag == b"\\":
                self._no_newline(body)
            else:
                old_n -= tag in (b" ", b"-", b"\n")
                new_n -= tag in (b" ", b"+", b"\n")
                self._check(
                    tag in (b" ", b"-", b"+", b"\n") and old_n >= 0 and new_n >= 0,
                    "hunk line does not match the header's counts",
                )
            body.append(self.take())
        if (line := self.peek()) is not None and line.startswith(b"\\"):
            self._no_newline(body)
            body.append(self.take())
        return tuple(body)

    def _no_newline(self, body: list[bytes]) -> None:
        line = self.peek() or b""
        self._check(_strip_eol(line) == _NO_NEWLINE, "unknown '\\' line")
        self._check(bool(body) and not body[-1].startswith(b"\\"), "misplaced no-newline marker")

    def _finish(self) -> FilePatch:
        if self.kind == "modify":
            self._check(
                self.old_path == self.new_path and self.old_path is not None,
                "the two names of a modified file differ",
            )
        elif self.kind == "add":
            self._check(self.old_path is None and self.new_path is not None, "bad added file")
        elif self.kind == "delete":
            self._check(self.new_path is None and self.old_path is not None, "bad deleted file")
        else:
            self._check(None not in (self.old_path, self.new_path), f"{self.kind} without names")
        raw = b"".join(self.lines[self.start : self.end])
        return FilePatch(
            self.old_path,
            self.new_path,
            self.old_mode,
            self.new_mode,
            self.kind,
            self.binary,
            tuple(self.hunks),
            raw,
        )


def _strip_eol(line: bytes) -> bytes:
    return line.removesuffix(b"\n").removesuffix(b"\r")


def _line_name(text: bytes, prefix: bytes, lineno: int) -> bytes | None:
    """The name on a ``---``/``+++`` line: up to a tab, unquoted, prefix removed; None for null."""
    text = _strip_eol(text).split(b"\t", 1)[0]
    if text == b"/dev/null":
        return None
    name = _unquote(text, lineno) if text.startswith(b'"') else text
    if not name.startswith(prefix):
        raise PatchParseError(lineno, f"file name must start with {prefix.decode()!r}")
    return name[len(prefix) :]


def _header_names(rest: bytes) -> tuple[bytes | None, bytes | None]:
    """(old, new) from the ``diff --git`` line; None where the line is ambiguous.

    Unquoted names may contain spaces, so like git this only trusts an unquoted line whose two
    names are equal; renames and copies name both sides in their own extended headers.
    """
    rest = _strip_eol(rest)
    if rest.startswith(b'"') or rest.endswith(b'"'):
        return _quoted_pair(rest)
    half = (len(rest) - 1) // 2
    old, sep, new = rest[:half], rest[half : half + 1], rest[half + 1 :]
    if sep == b" " and old.startswith(b"a/") and new.startswith(b"b/") and old[2:] == new[2:]:
        return old[2:], new[2:]
    return None, None


def _quoted_pair(rest: bytes) -> tuple[bytes | None, bytes | None]:
    names: list[bytes] = []
    while rest:
        if rest.startswith(b'"'):
            end = _closing_quote(rest)
            names.append(_unquote(rest[: end + 1], 0))
            rest = rest[end + 1 :].removeprefix(b" ")
        else:
            word, _, rest = rest.partition(b" ")
            names.append(word)
    if len(names) != 2 or not names[0].startswith(b"a/") or not names[1].startswith(b"b/"):
        return None, None
    return names[0][2:], names[1][2:]


def _closing_quote(text: bytes) -> int:
    i = 1
    while i < len(text):
        if text[i : i + 1] == b"\\":
            i += 2
        elif text[i : i + 1] == b'"':
            return i
        else:
            i += 1
    raise PatchParseError(0, "unterminated quoted file name")


def _unquote(text: bytes, lineno: int) -> bytes:
    """Undo git's C-style quoting of a path (``"a\\tb\\303\\251"``); unquoted text is returned."""
    if not text.startswith(b'"'):
        return text
    if len(text) < 2 or not text.endswith(b'"'):
        raise PatchParseError(lineno, "badly quoted file name")
    out = bytearray()
    body, i = text[1:-1], 0
    while i < len(body):
        ch = body[i : i + 1]
        if ch != b"\\":
            out += ch
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _C_ESCAPES:
            out.append(_C_ESCAPES[nxt])
            i += 2
        elif re.fullmatch(rb"[0-3][0-7]{2}", body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        else:
            raise PatchParseError(lineno, "bad escape in a quoted file name")
    return bytes(out)
