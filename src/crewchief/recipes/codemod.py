"""The ``codemod`` recipe: an ast-grep pattern → rewrite across a repository, no model involved.

Arguments (``ChangeRequest.recipe_args``):

- ``lang`` (required): an ast-grep language or alias (``python``, ``ts``, ``go``…);
- ``pattern`` (required) and ``rewrite`` (required): ast-grep syntax, ``$A`` / ``$$$ARGS``
  metavariables (see ``crewchief.recipes.rewrite`` for how the rewrite is filled in);
- ``selector`` (optional): a node kind; the pattern is then parsed as context and the node of
  that kind inside it is matched (ast-grep's pattern object, for fragments that parse as
  something else on their own);
- ``split``: ``file`` | ``dir`` | ``package`` (default) — see ``crewchief.recipes.split``;
- ``paths`` and ``glob``: selectors limiting the files searched (``crewchief.recipes.files``);
  without ``paths`` the request's ``focus`` is used, without either the whole repository;
- ``group`` (default true): the tasks form one landing group, judged and landed as one (a
  rename is only green as a whole); false lets each task land on its own.

The planner searches the files of that language tracked at HEAD and makes one task per unit of
files that match; the worker rewrites exactly its task's files in its worktree.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import JsonValue

from crewchief.backends.base import Recipe, WorkContext
from crewchief.errors import UserError
from crewchief.recipes import rewrite
from crewchief.recipes.args import RecipeArgs
from crewchief.recipes.files import TrackedFile, read_blobs, select_files
from crewchief.recipes.split import TaskTemplate, counted, group_files, make_tasks, unit_label
from crewchief.records import ChangeRequest, LandingGroup, Plan, Risk, Task, WorkerResult

NAME = "codemod"
BACKEND = f"recipe:{NAME}"
_SPEC_ARGS = ("lang", "pattern", "rewrite", "selector")
_ARGS = (*_SPEC_ARGS, "split", "paths", "glob", "group")


def _rule_from(args: RecipeArgs) -> rewrite.Rule:
    return rewrite.compile_rule(
        args.required_str("lang"),
        args.required_str("pattern"),
        args.required_str("rewrite"),
        args.optional_str("selector"),
    )


def _matching(
    repo: Path, rule: rewrite.Rule, files: tuple[TrackedFile, ...]
) -> tuple[list[str], list[str]]:
    """(paths of files with at least one match, paths of files skipped as not UTF-8)."""
    matched: list[str] = []
    not_utf8: list[str] = []
    for f, data in read_blobs(repo, files):
        try:
            source = rewrite.decode(data)
        except UnicodeDecodeError:
            not_utf8.append(f.path)
            continue
        if rewrite.count_matches(rule, source):
            matched.append(f.path)
    return matched, not_utf8


def _nothing_matched(rule: rewrite.Rule, searched: int) -> UserError:
    hint = "" if rule.parses_cleanly() else f" (it does not parse as {rule.language.name})"
    files = counted(searched, f"{rule.language.name} file")
    return UserError(f"pattern {rule.pattern!r} matched nothing in {files}{hint}")


def _describe(rule: rewrite.Rule) -> TaskTemplate:
    def describe(unit: str, files: tuple[str, ...]) -> tuple[str, str]:
        title = f"codemod {rule.pattern} → {rule.rewrite} in {unit_label(unit)}"
        instructions = (
            f"Rewrite every match of the ast-grep {rule.language.name} pattern `{rule.pattern}` "
            f"to `{rule.rewrite}` in these {counted(len(files), 'file')}, and change nothing "
            "else: " + ", ".join(files)
        )
        return title, instructions

    spec: dict[str, JsonValue] = {
        "lang": rule.language.name,
        "pattern": rule.pattern,
        "rewrite": rule.rewrite,
    }
    if rule.selector is not None:
        spec["selector"] = rule.selector
    risk: Risk = "medium" if rule.matches_everything else "low"
    return TaskTemplate(backend=BACKEND, spec=dict(spec), describe=describe, risk=risk)


class CodemodPlanner:
    """Plans a codemod: one task per unit (file, directory or package) of matching files."""

    name = BACKEND

    def plan(self, request: ChangeRequest, repo: Path) -> Plan:
        """The plan for ``repo`` at HEAD; UserError on bad arguments or when nothing matches."""
        args = RecipeArgs(NAME, request.recipe_args, _ARGS)
        rule = _rule_from(args)
        split = args.split()
        tracked, files = select_files(repo, args, request.focus, rule.language)
        matched, not_utf8 = _matching(repo, rule, files)
        if not matched:
            raise _nothing_matched(rule, len(files))
        tasks = make_tasks(group_files(matched, split, tracked), _describe(rule))
        risks = []
        if rule.matches_everything:
            risks.append(f"pattern {rule.pattern!r} is a bare metavariable: it matches every node")
        if not_utf8:
            skipped = counted(len(not_utf8), "file")
            risks.append(f"skipped {skipped} that are not UTF-8: {', '.join(not_utf8)}")
        return Plan(
            goal=request.goal,
            planner=self.name,
            tasks=tasks,
            parallel_groups=(tuple(t.id for t in tasks),),
            landing_groups=(
                (LandingGroup(name=NAME, tasks=tuple(t.id for t in tasks)),)
                if args.flag("group", True)
                else ()
            ),
            files=tuple(matched),
            risks=tuple(risks),
        )


def _rewrite_files(task: Task, rule: rewrite.Rule, worktree: Path) -> dict[Path, tuple[bytes, int]]:
    """New bytes and match count for each owned file; ValueError names the first bad file."""
    results: dict[Path, tuple[bytes, int]] = {}
    for rel in task.owned_paths:
        path = worktree / rel
        if path.is_symlink() or not path.is_file():
            raise ValueError(f"{rel} is not a regular file in the worktree")
        try:
            results[path] = rewrite.apply_bytes(rule, path.read_bytes())
        except UnicodeDecodeError as exc:
            raise ValueError(f"{rel} is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    return results


class CodemodWorker:
    """Applies a task's codemod to exactly its owned files; writes nothing if any file fails."""

    name = BACKEND

    def run(self, task: Task, ctx: WorkContext) -> WorkerResult:
        """Rewrite the task's files in ``ctx.worktree``; status "error" with the reason on bad
        spec, a missing or non-UTF-8 file (then no file is written)."""
        start = time.monotonic()
        try:
            args = RecipeArgs(NAME, task.spec, _SPEC_ARGS)
            rule = _rule_from(args)
            results = _rewrite_files(task, rule, ctx.worktree)
        except (UserError, ValueError) as exc:
            return WorkerResult(status="error", error=str(exc), duration_s=time.monotonic() - start)
        changed = 0
        for path, (data, count) in results.items():
            if count:
                path.write_bytes(data)
                changed += 1
        total = sum(count for _, count in results.values())
        log = "\n".join(f"{p.relative_to(ctx.worktree)}: {c}" for p, (_, c) in results.items())
        return WorkerResult(
            status="ok",
            rationale=f"rewrote {counted(total, 'match')} of `{rule.pattern}` "
            f"in {counted(changed, 'file')}",
            log=log,
            duration_s=time.monotonic() - start,
        )


RECIPE = Recipe(
    name=NAME,
    summary="ast-grep pattern → rewrite in any language ast-grep supports, one task per module",
    planner=CodemodPlanner(),
    backend=CodemodWorker(),
)
