"""Builders for git-format patches in tests, with the file states before and after them.

Each builder returns a Change: the patch bytes as ``git diff --binary`` writes them, the files a
checkout must hold for the patch to apply, and what those paths hold afterwards. Changes add up
with ``+``. Text diffs come from difflib over bytes, so CRLF, Latin-1 and missing final newlines
survive untouched.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import zlib
from dataclasses import dataclass, field

Entry = tuple[bytes, str]  # (content, git mode); a symlink's content is its target
FILE, EXEC, LINK, GITLINK = "100644", "100755", "120000", "160000"


@dataclass(frozen=True)
class Change:
    patch: bytes
    before: dict[bytes, Entry] = field(default_factory=dict)
    after: dict[bytes, Entry | None] = field(default_factory=dict)

    def __add__(self, other: Change) -> Change:
        return Change(
            self.patch + other.patch,
            {**self.before, **other.before},
            {**self.after, **other.after},
        )


def b(path: str | bytes) -> bytes:
    return path.encode() if isinstance(path, str) else path


def quote(name: bytes) -> bytes:
    """A path as git prints it: C-quoted when it holds control, quote, backslash or non-ASCII."""
    if not any(c < 0x20 or c in (0x22, 0x5C, 0x7F) or c >= 0x80 for c in name):
        return name
    out = bytearray(b'"')
    for c in name:
        special = {7: b"\\a", 8: b"\\b", 9: b"\\t", 10: b"\\n", 11: b"\\v", 12: b"\\f", 13: b"\\r"}
        if c in special:
            out += special[c]
        elif c in (0x22, 0x5C):
            out += b"\\" + bytes([c])
        elif c < 0x20 or c >= 0x7F:
            out += b"\\%03o" % c
        else:
            out.append(c)
    return bytes(out + b'"')


def _name(prefix: bytes, path: bytes) -> bytes:
    q = quote(prefix + path)
    return q if q.startswith(b'"') else prefix + path


def _tab(path: bytes) -> bytes:
    return b"\t" if b" " in path else b""


def diff_header(old: bytes, new: bytes) -> bytes:
    return b"diff --git " + _name(b"a/", old) + b" " + _name(b"b/", new) + b"\n"


def file_names(old: bytes | None, new: bytes | None) -> bytes:
    minus = b"/dev/null" if old is None else _name(b"a/", old) + _tab(old)
    plus = b"/dev/null" if new is None else _name(b"b/", new) + _tab(new)
    return b"--- " + minus + b"\n+++ " + plus + b"\n"


def hunks(before: bytes, after: bytes) -> bytes:
    """Unified hunks (3 lines of context) from ``before`` to ``after``, git's no-newline marks."""
    lines = difflib.diff_bytes(
        difflib.unified_diff,
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        b"",
        b"",
        n=3,
        lineterm=b"\n",
    )
    out = b""
    for line in list(lines)[2:]:
        out += line if line.endswith(b"\n") else line + b"\n\\ No newline at end of file\n"
    return out


def blob_id(content: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest().encode()


def _short(content: bytes) -> bytes:
    return blob_id(content)[:7]


def modify(path: str | bytes, before: bytes, after: bytes, mode: str = FILE) -> Change:
    p = b(path)
    head = diff_header(p, p) + b"index %s..%s %s\n" % (_short(before), _short(after), mode.encode())
    return Change(
        head + file_names(p, p) + hunks(before, after), {p: (before, mode)}, {p: (after, mode)}
    )


def add(path: str | bytes, content: bytes, mode: str = FILE) -> Change:
    p = b(path)
    head = diff_header(p, p) + b"new file mode %s\nindex 0000000..%s\n" % (
        mode.encode(),
        _short(content),
    )
    body = file_names(None, p) + hunks(b"", content) if content else b""
    return Change(head + body, {}, {p: (content, mode)})


def delete(path: str | bytes, content: bytes, mode: str = FILE) -> Change:
    p = b(path)
    head = diff_header(p, p) + b"deleted file mode %s\nindex %s..0000000\n" % (
        mode.encode(),
        _short(content),
    )
    body = file_names(p, None) + hunks(content, b"") if content else b""
    return Change(head + body, {p: (content, mode)}, {p: None})


def symlink(path: str | bytes, target: str | bytes) -> Change:
    return add(path, b(target), LINK)


def chmod(path: str | bytes, content: bytes, old: str = FILE, new: str = EXEC) -> Change:
    p = b(path)
    head = diff_header(p, p) + b"old mode %s\nnew mode %s\n" % (old.encode(), new.encode())
    return Change(head, {p: (content, old)}, {p: (content, new)})


def rename(
    old: str | bytes, new: str | bytes, content: bytes, after: bytes | None = None
) -> Change:
    return _move(b"rename", b(old), b(new), content, after)


def copy(old: str | bytes, new: str | bytes, content: bytes, after: bytes | None = None) -> Change:
    return _move(b"copy", b(old), b(new), content, after)


def _move(kind: bytes, old: bytes, new: bytes, content: bytes, after: bytes | None) -> Change:
    changed = after is not None and after != content
    similarity = b"90" if changed else b"100"
    head = diff_header(old, new) + b"similarity index %s%%\n" % similarity
    head += b"%s from %s\n%s to %s\n" % (kind, quote(old), kind, quote(new))
    if changed:
        assert after is not None
        head += b"index %s..%s 100644\n" % (_short(content), _short(after))
        head += file_names(old, new) + hunks(content, after)
    result: dict[bytes, Entry | None] = {new: (after if after is not None else content, FILE)}
    if kind == b"rename":
        result[old] = None
    return Change(head, {old: (content, FILE)}, result)


def _base85_lines(data: bytes) -> bytes:
    out = b""
    for i in range(0, len(data), 52):
        chunk = data[i : i + 52]
        n = len(chunk)
        length = bytes([ord("A") + n - 1]) if n <= 26 else bytes([ord("a") + n - 27])
        out += length + base64.b85encode(chunk, pad=True) + b"\n"
    return out


def binary_literal(data: bytes) -> bytes:
    """One ``literal N`` block of a git binary patch: zlib-deflated, git base85, blank line."""
    return b"literal %d\n" % len(data) + _base85_lines(zlib.compress(data)) + b"\n"


def binary_add(path: str | bytes, content: bytes) -> Change:
    p = b(path)
    head = diff_header(p, p) + b"new file mode 100644\nindex %s..%s\n" % (
        b"0" * 40,
        blob_id(content),
    )
    body = b"GIT binary patch\n" + binary_literal(content) + binary_literal(b"")
    return Change(head + body, {}, {p: (content, FILE)})


def binary_modify(path: str | bytes, before: bytes, after: bytes) -> Change:
    p = b(path)
    head = diff_header(p, p) + b"index %s..%s 100644\n" % (blob_id(before), blob_id(after))
    body = b"GIT binary patch\n" + binary_literal(after) + binary_literal(before)
    return Change(head + body, {p: (before, FILE)}, {p: (after, FILE)})


def gitlink(path: str | bytes, old_sha: str | None, new_sha: str | None) -> Change:
    p = b(path)
    head = diff_header(p, p)
    if old_sha is None:
        head += b"new file mode 160000\nindex 0000000..%s\n" % new_sha.encode()[:7]  # type: ignore[union-attr]
    else:
        head += b"index %s..%s 160000\n" % (
            old_sha.encode()[:7],
            (new_sha or "0" * 40).encode()[:7],
        )
    old = b"" if old_sha is None else b"Subproject commit %s\n" % old_sha.encode()
    new = b"Subproject commit %s\n" % new_sha.encode() if new_sha else b""
    return Change(head + file_names(p if old_sha else None, p) + hunks(old, new))


def raw(text: str | bytes) -> Change:
    """A hand-written patch, taken as is (str is encoded as UTF-8)."""
    return Change(b(text))
