"""The worker's tools, confined to its worktree: read, search, look up a symbol, edit by
search/replace, and run the task's own checks.

Scope is enforced here, at the tool: an edit of a path outside the task's owned paths is refused
with the reason, and the model sees the refusal. Whatever a check leaves behind outside the task
is undone by ``restore_scope`` before the diff is taken.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crewchief import git
from crewchief.llm import context
from crewchief.records import Task
from crewchief.sandbox.runner import SandboxConfig, run_shell

if TYPE_CHECKING:
    from crewchief.intel.snapshot import Snapshot

#: Lines one read_file call returns at most.
MAX_READ_LINES = 400
#: Characters of search, lookup and check output shown to the model (the tail for checks).
MAX_OUTPUT_CHARS = 6000
#: Definitions one lookup_symbol call lists at most.
MAX_LOOKUP_RESULTS = 8
#: Malformed tool arguments the model may send again before the attempt fails.
TOOL_RETRIES = 2
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


@dataclass(frozen=True)
class CheckRun:
    command: str
    passed: bool


@dataclass
class WorktreeTools:
    """Tools over ``worktree`` for ``task``; they record edits, refusals and checks run."""

    worktree: Path
    task: Task
    snapshot: Snapshot | None = None
    check_timeout_s: float = 120.0
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    owner: str = ""
    edits: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    checks_run: list[CheckRun] = field(default_factory=list)

    def tools(self) -> list[Any]:
        """The pydantic-ai Tool objects (run one at a time: edits must not interleave)."""
        from pydantic_ai import Tool

        funcs: list[Callable[..., str]] = [
            self.read_file,
            self.search,
            self.lookup_symbol,
            self.edit_file,
            self.run_check,
        ]
        return [Tool(f, takes_ctx=False, sequential=True, max_retries=TOOL_RETRIES) for f in funcs]

    def read_file(self, path: str, start_line: int = 1, end_line: int | None = None) -> str:
        """Read lines start_line..end_line (1-based, inclusive) of a file, numbered.

        Args:
            path: Repository-relative path.
            start_line: First line to show.
            end_line: Last line to show (default: up to 400 lines after start_line).
        """
        target = self._resolve(path)
        if isinstance(target, str):
            return target
        if not target.is_file():
            return f"{path}: no such file"
        lines = target.read_text(encoding="utf-8", errors="replace").splitlines()
        start = max(1, start_line)
        end = min(len(lines), end_line or start + MAX_READ_LINES - 1, start + MAX_READ_LINES - 1)
        body = "\n".join(f"{n:>5}  {lines[n - 1]}" for n in range(start, end + 1))
        return f"{path} lines {start}-{end} of {len(lines)}\n{body}"

    def search(self, pattern: str, path: str = "") -> str:
        """Search the repository's files for a regular expression (git grep -E), with line numbers.

        Args:
            pattern: Extended regular expression.
            path: Limit the search to this file or directory.
        """
        where = ["--", path] if path else []
        if path and isinstance(self._resolve(path), str):
            return str(self._resolve(path))
        proc = git.run(
            ["grep", "-n", "-I", "-E", "-e", pattern, *where], self.worktree, check=False
        )
        out = proc.stdout.decode(errors="replace") or proc.stderr.decode(errors="replace")
        return _cut(out) or "no matches"

    def lookup_symbol(self, name: str) -> str:
        """Find where a function, class or method is defined, with its signature.

        Args:
            name: A name or dotted qualname such as Cart.add.
        """
        if not _IDENTIFIER.fullmatch(name):
            return f"{name!r} is not an identifier"
        return context.lookup_symbol(self.snapshot, self.worktree, name, MAX_LOOKUP_RESULTS)

    def edit_file(self, path: str, search: str, replace: str) -> str:
        """Replace the exact text `search` with `replace` in a file you own.

        `search` must match exactly once (copy it from read_file, without line numbers). To
        create a new file you own, pass an empty `search` and the whole file as `replace`.

        Args:
            path: Repository-relative path of a file this task owns.
            search: The exact existing text to replace (empty to create the file).
            replace: The new text.
        """
        if not self.task.owns(path):
            return self._refuse(
                f"REFUSED: {path} is outside this task's owned paths "
                f"({', '.join(self.task.owned_paths)}). Edit only those; if the change needs "
                "another file, say so in your assumptions."
            )
        target = self._resolve(path)
        if isinstance(target, str):
            return self._refuse(target)
        message = _apply_edit(target, path, search, replace)
        if message.startswith("edited") or message.startswith("created"):
            self.edits.append(path)
        return message

    def run_check(self, command: str) -> str:
        """Run one of this task's acceptance checks in the repository and show its result.

        Args:
            command: Exactly one of the task's checks.
        """
        if command not in self.task.checks:
            allowed = "; ".join(self.task.checks) or "none"
            return self._refuse(f"REFUSED: not one of this task's checks (allowed: {allowed})")
        owned = [p for p in self.task.owned_paths if (self.worktree / p).is_file()]
        expanded = command.replace("{files}", " ".join(shlex.quote(p) for p in owned))
        proc = run_shell(
            expanded,
            self.worktree,
            self.sandbox,
            timeout_s=self.check_timeout_s,
            owner=self.owner,
        )
        self.checks_run.append(CheckRun(command, proc.ok))
        verdict = "passed" if proc.ok else ("timed out" if proc.timed_out else "FAILED")
        return f"{command}: {verdict} (exit {proc.returncode})\n{_cut(proc.output, tail=True)}"

    def _resolve(self, path: str) -> Path | str:
        """The path inside the worktree, or the reason it is refused."""
        parts = Path(path).parts
        if not path or Path(path).is_absolute() or ".." in parts:
            return f"REFUSED: {path!r} must be a repository-relative path without '..'"
        if any(p.casefold() == ".git" for p in parts):
            return f"REFUSED: {path} is inside .git"
        root = self.worktree.resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            return f"REFUSED: {path} leads outside the repository"
        return target

    def _refuse(self, reason: str) -> str:
        self.refusals.append(reason)
        return reason


def _apply_edit(target: Path, path: str, search: str, replace: str) -> str:
    if not search:
        if target.exists():
            return f"{path} exists: give the exact text to replace in `search`"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(replace, encoding="utf-8")
        return f"created {path} ({len(replace.splitlines())} lines)"
    if not target.is_file():
        return f"{path}: no such file (to create it, pass an empty search)"
    text = target.read_text(encoding="utf-8")
    count = text.count(search)
    if count == 0:
        return f"search text not found in {path}: read the file and copy the exact lines"
    if count > 1:
        return f"search text matches {count} places in {path}: include more surrounding lines"
    target.write_text(text.replace(search, replace, 1), encoding="utf-8")
    return f"edited {path}: {len(search.splitlines())} lines → {len(replace.splitlines())} lines"


def restore_scope(worktree: Path, task: Task, base: str) -> list[str]:
    """Undo every change outside ``task``'s owned paths (a check's caches, reports, rewrites):
    delete new untracked files, restore tracked ones to ``base``. Returns the paths undone."""
    out = git.run(["status", "--porcelain=v1", "-z", "--untracked-files=all"], worktree).stdout
    undone = []
    for entry in out.split(b"\0"):
        if len(entry) < 4:
            continue
        code, rel = entry[:2], entry[3:].decode(errors="surrogateescape")
        if task.owns(rel):
            continue
        if code == b"??":
            (worktree / rel).unlink(missing_ok=True)
        else:
            git.run(["checkout", base, "--", rel], worktree)
        undone.append(rel)
    return undone


def _cut(text: str, *, tail: bool = False) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    if tail:
        return "[… cut]\n" + text[-MAX_OUTPUT_CHARS:]
    return text[:MAX_OUTPUT_CHARS] + "\n[… cut]"
