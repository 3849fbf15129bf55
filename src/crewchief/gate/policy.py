"""The patch policy: what a worker's patch may and may not do, decided from its bytes alone.

``git apply --check`` already refuses ``..``, absolute paths, ``.git/`` and writes through a
symlink, but it accepts a new symlink pointing outside the repository, mode changes, submodule
entries, CI and agent-instruction files, binary blobs and invisible characters. This module rejects
those (and re-checks the ones git already refuses, so the policy holds on its own).

The patch is parsed strictly (:mod:`crewchief.gate.patchfile`); anything that is not the git diff
format is rejected as malformed rather than guessed at.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from crewchief.gate.patchfile import (
    MODE_EXEC,
    MODE_GITLINK,
    MODE_SYMLINK,
    FilePatch,
    PatchParseError,
    parse,
    path_text,
)
from crewchief.gate.pathnames import collisions, deceptive
from crewchief.gate.secretscan import scan_files
from crewchief.records import Record, owned_by

ViolationCode = Literal[
    "malformed",
    "too_large",
    "unsafe_path",
    "git_dir",
    "outside_scope",
    "delete_unowned",
    "symlink_escape",
    "submodule",
    "mode_change",
    "sensitive_path",
    "binary",
    "invisible_char",
    "secret",
    "confusable_path",
    "case_collision",
    "normalization_collision",
]

MiB = 1024 * 1024

#: Files that steer CI, git itself or coding agents. A pattern with a ``/`` is anchored at the
#: repository root; one without matches that name in any directory (as in .gitignore). ``**``
#: crosses directories, ``*`` does not. Matching ignores case.
DEFAULT_SENSITIVE: tuple[str, ...] = (
    ".gitattributes",
    ".gitmodules",
    ".github/**",
    ".gitlab-ci.yml",
    ".gitlab/**",
    ".circleci/**",
    ".travis.yml",
    ".drone.yml",
    ".buildkite/**",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    "Jenkinsfile",
    ".pre-commit-config.yaml",
    ".husky/**",
    ".devcontainer/**",
    ".vscode/**",
    ".envrc",
    ".codex/**",
    ".claude/**",
    ".cursor/**",
    ".cursorrules",
    ".windsurfrules",
    ".mcp.json",
    ".aider*",
    ".goosehints",
    "AGENTS.md",
    "CLAUDE.md",
    "GEMINI.md",
    "CODEOWNERS",
    "crewchief.toml",
    ".crewchief/**",
)


class PolicyRules(Record):
    """What a patch may do beyond editing the text of files its task owns."""

    allow_mode_changes: bool = False
    allow_binary: bool = False
    max_patch_bytes: int = Field(default=MiB, gt=0)
    sensitive: tuple[str, ...] = DEFAULT_SENSITIVE
    sensitive_approved: bool = False


class Violation(Record):
    """One reason a patch is refused. ``needs_human``: a person's approval would lift it."""

    code: ViolationCode
    path: str | None = None
    detail: str
    needs_human: bool = False


class PolicyDecision(Record):
    """The verdict on one patch. ``needs_human``: only a person's approval stands in the way."""

    accepted: bool
    violations: tuple[Violation, ...] = ()
    needs_human: bool = False

    def codes(self) -> set[str]:
        return {v.code for v in self.violations}


def evaluate(
    patch: bytes,
    task_owned: Sequence[str],
    rules: PolicyRules,
    repo: Path | None = None,
    existing: Collection[str] = (),
    known_secrets: Sequence[tuple[str, str]] = (),
) -> PolicyDecision:
    """Decide whether ``patch`` may be applied for a task owning ``task_owned``.

    ``task_owned`` holds repository-relative paths; one ending in ``/`` owns that directory.
    ``repo``, when given, is a checkout at the patch's base: it lets the policy follow symlinks
    already in the repository and see that a renamed file is a symlink. ``existing`` lists the
    paths of the base tree, so that a new name equal to one of them but for case or Unicode
    normalization is refused. ``known_secrets`` are (value, label) pairs of secrets known by
    value (the environment's, as the ledger's redactor holds them).

    A patch that adds a secret is refused (``secret``: path, line and kind, never the value);
    no approval lifts that, since the stored patch is masked and a person could only approve a
    masked copy. The line may instead carry ``pragma: allowlist secret`` (see secretscan).
    """
    if len(patch) > rules.max_patch_bytes:
        detail = f"patch is {len(patch)} bytes, limit {rules.max_patch_bytes}"
        return _decision([Violation(code="too_large", detail=detail)])
    try:
        files = parse(patch)
    except PatchParseError as exc:
        return _decision([Violation(code="malformed", detail=str(exc))])
    check = _Checker(tuple(task_owned), rules, repo, files)
    found: list[Violation] = []
    for f in files:
        found += check.file(f)
    found += _secrets(files, known_secrets)
    found += _collisions(files, existing)
    return _decision(found)


def _secrets(files: Sequence[FilePatch], known: Sequence[tuple[str, str]]) -> list[Violation]:
    return [
        Violation(code="secret", path=f.path, detail=f"line {f.line}: adds a secret ({f.kind})")
        for f in scan_files(files, known)
    ]


def _collisions(files: Sequence[FilePatch], existing: Collection[str]) -> list[Violation]:
    gone = (f.old_path for f in files if f.kind in ("delete", "rename"))
    removed = {path_text(p) for p in gone if p is not None}
    added = [
        path_text(f.new_path)
        for f in files
        if f.new_path is not None and f.kind in ("add", "rename", "copy")
    ]
    found = []
    for c in collisions(added, [p for p in existing if p not in removed]):
        code: ViolationCode = "case_collision" if c.by == "case" else "normalization_collision"
        detail = f"differs only by {c.by} from {c.other!r} (the two collide on some systems)"
        found.append(Violation(code=code, path=c.path, detail=detail))
    return found


def _decision(found: list[Violation]) -> PolicyDecision:
    unique = tuple(dict.fromkeys(found))
    return PolicyDecision(
        accepted=not unique,
        violations=unique,
        needs_human=bool(unique) and all(v.needs_human for v in unique),
    )


def sensitive_match(path: str, patterns: Sequence[str] = DEFAULT_SENSITIVE) -> str | None:
    """The first of ``patterns`` (DEFAULT_SENSITIVE syntax) that ``path`` matches, or None."""
    folded = path.casefold()
    return next((p for p in patterns if _glob_regex(p).fullmatch(folded)), None)


class _Checker:
    """The per-file checks, sharing the task's ownership, the rules and the symlink view."""

    def __init__(
        self,
        owned: tuple[str, ...],
        rules: PolicyRules,
        repo: Path | None,
        files: tuple[FilePatch, ...],
    ) -> None:
        self.owned = owned
        self.rules = rules
        self.repo = repo
        self.sensitive = [_glob_regex(p) for p in rules.sensitive]
        self.links = _LinkView(repo, files)

    def file(self, f: FilePatch) -> list[Violation]:
        found: list[Violation] = []
        for raw in f.paths():
            found += _path_violations(raw)
        if found:
            return found  # the path itself is unusable: the other checks would only add noise
        found += self._scope(f)
        found += self._sensitive(f)
        found += self._kind(f)
        found += self._symlink(f)
        if not f.binary and not self._is_link(f):
            found += _invisible(f)
        return found

    def _scope(self, f: FilePatch) -> list[Violation]:
        found = []
        removed = f.old_path if f.kind in ("delete", "rename") else None
        if removed is not None and not owned_by(self.owned, path_text(removed)):
            found.append(_v("delete_unowned", removed, f"{f.kind} of a file the task does not own"))
        if f.new_path is not None and not owned_by(self.owned, path_text(f.new_path)):
            found.append(_v("outside_scope", f.new_path, "writes a file the task does not own"))
        if f.new_path is not None and (through := self.links.parent_link(f.new_path)):
            found.append(_v("unsafe_path", f.new_path, f"writes through the symlink {through!r}"))
        return found

    def _sensitive(self, f: FilePatch) -> list[Violation]:
        touched = (f.new_path,) if f.kind == "copy" else f.paths()
        found = []
        for raw in touched:
            path = path_text(raw or b"")
            if not any(rx.fullmatch(path.casefold()) for rx in self.sensitive):
                continue
            if not owned_by(self.owned, path):
                found.append(_v("sensitive_path", raw, "sensitive file outside the task's scope"))
            elif not self.rules.sensitive_approved:
                detail = "sensitive file: needs a person's approval"
                found.append(_v("sensitive_path", raw, detail, needs_human=True))
        return found

    def _kind(self, f: FilePatch) -> list[Violation]:
        path = f.new_path or f.old_path
        assert path is not None
        found = []
        if f.binary and not self.rules.allow_binary:
            found.append(_v("binary", path, "binary file change"))
        if MODE_GITLINK in (f.old_mode, f.new_mode):
            found.append(_v("submodule", path, "submodule (gitlink, mode 160000) change"))
        elif not self.rules.allow_mode_changes:
            found += _mode_change(f, path)
        return found

    def _is_link(self, f: FilePatch) -> bool:
        if f.new_mode is not None:
            return f.new_mode == MODE_SYMLINK
        return f.old_path is not None and self.links.in_repo(f.old_path) is not None

    def _symlink(self, f: FilePatch) -> list[Violation]:
        if f.new_path is None or not self._is_link(f):
            return []
        target = self.links.target_of(f)
        if target is None:
            return [_v("symlink_escape", f.new_path, "symlink target cannot be read from patch")]
        reason = self.links.escapes(f.new_path, target)
        if reason is None:
            return []
        return [_v("symlink_escape", f.new_path, f"symlink to {path_text(target)!r} {reason}")]


def _v(
    code: ViolationCode, raw: bytes | None, detail: str, *, needs_human: bool = False
) -> Violation:
    path = None if raw is None else path_text(raw)
    return Violation(code=code, path=path, detail=detail, needs_human=needs_human)


def _mode_change(f: FilePatch, path: bytes) -> list[Violation]:
    if f.kind == "add" and f.new_mode == MODE_EXEC:
        return [_v("mode_change", path, "new file is executable (mode 100755)")]
    if f.old_mode and f.new_mode and f.old_mode != f.new_mode:
        detail = f"mode {f.old_mode.decode()} -> {f.new_mode.decode()}"
        return [_v("mode_change", path, detail)]
    return []


# --- paths -------------------------------------------------------------------------------------

_GIT_IGNORABLE = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
_BAD_PATH_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\\]")


def _path_violations(raw: bytes) -> list[Violation]:
    path = path_text(raw)
    parts = path.split("/")
    if path.startswith("/"):
        return [_v("unsafe_path", raw, "absolute path")]
    if any(p in ("", ".", "..") for p in parts):
        return [_v("unsafe_path", raw, "empty, '.' or '..' path component")]
    if any(_is_git_dir(p) for p in parts):
        return [_v("git_dir", raw, "path inside a .git directory")]
    if _BAD_PATH_CHARS.search(path) or _INVISIBLE.search(path) or "\ufeff" in path:
        return [_v("unsafe_path", raw, "control, backslash or invisible character in path")]
    if (why := deceptive(path)) is not None:
        return [_v("confusable_path", raw, why)]
    return []


def reserved_dir(path: str) -> str | None:
    """``.git`` or ``.crewchief`` if ``path`` lies in (or is) one of them, in any case or
    disguise git itself sees through; None otherwise. No task may own such a path."""
    for part in path.strip("/").split("/"):
        if _is_git_dir(part):
            return ".git"
        if _GIT_IGNORABLE.sub("", part).casefold().rstrip(". ") == ".crewchief":
            return ".crewchief"
    return None


def _is_git_dir(component: str) -> bool:
    """``.git`` as git itself guards it: any case, HFS+ ignorables, NTFS trailing dots/spaces."""
    name = _GIT_IGNORABLE.sub("", component).casefold().rstrip(". ")
    return name in (".git", "git~1")


@functools.lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex over casefolded paths (see DEFAULT_SENSITIVE for the syntax)."""
    anchored = "/" in pattern.rstrip("/")
    body = ""
    for token in re.split(r"(\*\*/?|\*|\?)", pattern.strip("/").casefold()):
        if token.startswith("**"):
            body += "(?:.*/)?" if token == "**/" else ".*"
        elif token == "*":
            body += "[^/]*"
        elif token == "?":
            body += "[^/]"
        else:
            body += re.escape(token)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(prefix + body + ("/.*" if pattern.endswith("/") else ""))


# --- symlinks ----------------------------------------------------------------------------------

_MAX_LINK_HOPS = 40


class _LinkView:
    """Symlinks as they will be once the patch is applied: the patch's own over the repo's."""

    def __init__(self, repo: Path | None, files: tuple[FilePatch, ...]) -> None:
        self.repo = repo
        self.patched: dict[bytes, bytes | None] = {}
        for f in files:
            if f.kind in ("delete", "rename") and f.old_path is not None:
                self.patched[f.old_path] = None
            if f.new_path is None:
                continue
            if f.new_mode is not None:
                self.patched[f.new_path] = _hunk_target(f) if f.new_mode == MODE_SYMLINK else None
            elif f.old_path is not None:
                self.patched[f.new_path] = self.in_repo(f.old_path)

    def in_repo(self, path: bytes) -> bytes | None:
        """The target of ``path`` if it is a symlink in the base checkout."""
        if self.repo is None:
            return None
        full = os.path.join(os.fsencode(self.repo), path)
        return os.readlink(full) if os.path.islink(full) else None

    def link(self, path: bytes) -> bytes | None:
        if path in self.patched:
            return self.patched[path]
        return self.in_repo(path)

    def target_of(self, f: FilePatch) -> bytes | None:
        if f.hunks or f.binary or f.kind == "add":
            return _hunk_target(f)
        return None if f.old_path is None else self.in_repo(f.old_path)

    def parent_link(self, path: bytes) -> str | None:
        """The first parent directory of ``path`` that is a symlink, if any."""
        parts = path.split(b"/")[:-1]
        for i in range(1, len(parts) + 1):
            prefix = b"/".join(parts[:i])
            if self.link(prefix) is not None:
                return path_text(prefix)
        return None

    def escapes(self, link_path: bytes, target: bytes) -> str | None:
        """Why a link at ``link_path`` to ``target`` is unsafe, or None if it stays inside."""
        if target.startswith(b"/"):
            return "is absolute"
        resolved = self._resolve(link_path.split(b"/")[:-1], target.split(b"/"))
        if resolved is None:
            return "points outside the repository (or loops)"
        if any(_is_git_dir(path_text(p)) for p in resolved):
            return "points into .git"
        return None

    def _resolve(self, here: list[bytes], rest: list[bytes]) -> list[bytes] | None:
        """Resolve ``rest`` from directory ``here`` as the kernel would; None if it escapes."""
        current, todo, hops = list(here), list(rest), 0
        while todo:
            part = todo.pop(0)
            if part in (b"", b"."):
                continue
            if part == b"..":
                if not current:
                    return None
                current.pop()
                continue
            target = self.link(b"/".join([*current, part]))
            if target is None:
                current.append(part)
                continue
            hops += 1
            if target.startswith(b"/") or hops > _MAX_LINK_HOPS:
                return None
            todo = target.split(b"/") + todo
        return current


def _hunk_target(f: FilePatch) -> bytes | None:
    """A symlink's target from its patch (one hunk, one line, no trailing newline)."""
    if f.binary or len(f.hunks) != 1:
        return None
    target = f.hunks[0].new_side()
    return None if not target or b"\n" in target or b"\0" in target else target


# --- invisible characters ----------------------------------------------------------------------

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\u3164\uffa0\ufff9-\ufffb"
    "\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


def _invisible(f: FilePatch) -> list[Violation]:
    """Bidi controls, zero-width and other invisible characters in added lines (Trojan Source).

    A byte-order mark is allowed only as the very first character of the file. Lines that are
    not UTF-8 are read with replacement characters, so a Latin-1 file is not flagged for its
    accented letters while any valid UTF-8 sequence for a hidden character still is.
    """
    for hunk in f.hunks:
        for lineno, content in hunk.added():
            text = content.decode("utf-8", "replace").rstrip("\r\n")
            if lineno == 1 and text.startswith("\ufeff"):
                text = text[1:]
            bad = _INVISIBLE.search(text) or re.search("\ufeff", text)
            if bad is not None:
                char = bad.group()
                name = unicodedata.name(char, "control character")
                detail = f"line {lineno}: U+{ord(char):04X} {name}"
                return [_v("invisible_char", f.new_path, detail)]
    return []
