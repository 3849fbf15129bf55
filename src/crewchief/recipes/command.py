"""The ``command`` recipe: one shell command per module, e.g. ``ruff check --fix {files}``.

Arguments (``ChangeRequest.recipe_args``):

- ``command`` (required): a shell command; ``{files}`` becomes the task's files, shell-quoted and
  space-separated (no other braces are touched, so ``awk '{print}'`` is safe);
- ``paths``, ``glob``, ``lang``: which tracked files at HEAD to work on (all of them by default;
  ``lang`` keeps that language's extensions) — see ``crewchief.recipes.files``; without
  ``paths`` the request's ``focus`` is used;
- ``split``: ``file`` | ``dir`` | ``package`` (default) — see ``crewchief.recipes.split``;
- ``ok_exit_codes``: exit codes that count as success (default ``[0, 1]``: ``ruff --fix`` exits 1
  when unfixable issues remain). 126 and 127 mean the shell could not run the command at all and
  are always failures.

The worker runs the command through ``crewchief.sandbox.runner.run_shell`` in the task's worktree
(bubblewrap: only the worktree writable, a scrubbed environment, a PID namespace killed whole on
timeout; git metadata restored; the output's tail kept) and reports the exit code and output in
the log. A command that changed git metadata fails. Untracked files the command creates outside
the task's files (caches, bytecode, reports that no ``.gitignore`` covers) are deleted and listed
in the log; any other change is the patch, and the gate checks it stays inside the task's files.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from crewchief import git
from crewchief.attempts import procs
from crewchief.backends.base import Recipe, WorkContext
from crewchief.errors import GitError, UserError
from crewchief.recipes.args import RecipeArgs
from crewchief.recipes.files import select_files
from crewchief.recipes.languages import resolve_language
from crewchief.recipes.split import TaskTemplate, counted, group_files, make_tasks, unit_label
from crewchief.records import ChangeRequest, Plan, Task, WorkerResult
from crewchief.sandbox import runner as sandbox

NAME = "command"
BACKEND = f"recipe:{NAME}"
FILES_PLACEHOLDER = "{files}"
DEFAULT_OK_EXIT_CODES = (0, 1)
#: Shell exit codes for "found but not executable" and "command not found".
_CANNOT_RUN = (126, 127)
_MAX_EXIT_CODE = 255
_ARGS = ("command", "paths", "glob", "lang", "split", "ok_exit_codes")


def _ok_exit_codes(args: RecipeArgs) -> tuple[int, ...]:
    codes = args.int_list("ok_exit_codes", DEFAULT_OK_EXIT_CODES)
    for code in codes:
        if code in _CANNOT_RUN or not 0 <= code <= _MAX_EXIT_CODE:
            raise UserError(
                f"{NAME}: ok_exit_codes may not contain {code} "
                f"(exit codes are 0-255; 126 and 127 mean the command could not run)"
            )
    return codes


def expand_command(command: str, files: tuple[str, ...]) -> str:
    """``command`` with each ``{files}`` replaced by ``files`` shell-quoted, space-separated."""
    return command.replace(FILES_PLACEHOLDER, shlex.join(files))


def _template(command: str, ok_codes: tuple[int, ...]) -> TaskTemplate:
    def describe(unit: str, files: tuple[str, ...]) -> tuple[str, str]:
        title = f"run `{command}` on {unit_label(unit)}"
        instructions = (
            f"Run the shell command `{command}` in the worktree, {FILES_PLACEHOLDER} standing "
            f"for these {counted(len(files), 'file')}, and keep only its changes to them: "
            + ", ".join(files)
        )
        return title, instructions

    return TaskTemplate(
        backend=BACKEND,
        spec={"command": command, "ok_exit_codes": list(ok_codes)},
        describe=describe,
    )


class CommandPlanner:
    """Plans a command run: one task per unit (file, directory or package) of selected files."""

    name = BACKEND

    def plan(self, request: ChangeRequest, repo: Path) -> Plan:
        """The plan for ``repo`` at HEAD; UserError on bad arguments or when no file is selected."""
        args = RecipeArgs(NAME, request.recipe_args, _ARGS)
        command = args.required_str("command")
        ok_codes = _ok_exit_codes(args)
        lang = args.optional_str("lang")
        language = resolve_language(lang) if lang else None
        split = args.split()
        tracked, files = select_files(repo, args, request.focus, language)
        paths = [f.path for f in files]
        tasks = make_tasks(group_files(paths, split, tracked), _template(command, ok_codes))
        risks: tuple[str, ...] = ()
        if FILES_PLACEHOLDER not in command:
            risks = (f"command has no {FILES_PLACEHOLDER}: every task runs the same command",)
        return Plan(
            goal=request.goal,
            planner=self.name,
            tasks=tasks,
            parallel_groups=(tuple(t.id for t in tasks),),
            files=tuple(paths),
            risks=risks,
        )


def _outcome(result: procs.ProcResult, ok_codes: tuple[int, ...], timeout_s: float) -> str | None:
    """Why the run failed, or None when it counts as success."""
    if result.timed_out:
        return f"timed out after {timeout_s:g}s"
    if result.tampered:
        return "the command changed git metadata (restored): " + "; ".join(result.tampered)
    code = result.returncode
    if code in _CANNOT_RUN:
        last = result.output.strip().splitlines()[-1:] or [""]
        return f"the command could not run (exit {code}): {last[0]}".rstrip(": ")
    if code not in ok_codes:
        return f"exit code {code} is not in ok_exit_codes {list(ok_codes)}"
    return None


def _untracked(worktree: Path) -> set[str]:
    """Untracked, non-ignored files in ``worktree`` (repository-relative paths)."""
    out = git.run(["status", "--porcelain=v1", "-z", "--untracked-files=all"], worktree).stdout
    return {
        entry[3:].decode(errors="surrogateescape")
        for entry in out.split(b"\0")
        if entry.startswith(b"?? ")
    }


def _remove_byproducts(task: Task, worktree: Path, before: set[str]) -> list[str]:
    """Delete files the command created outside the task's files (caches, bytecode, reports);
    return their paths. Changes to tracked files outside the task are left for the gate."""
    stray = sorted(p for p in _untracked(worktree) - before if not task.owns(p))
    for rel in stray:
        (worktree / rel).unlink(missing_ok=True)
    return stray


def _run_in(
    task: Task, ctx: WorkContext
) -> tuple[str, tuple[int, ...], procs.ProcResult, list[str]]:
    """(expanded command, ok exit codes, its result, removed byproducts); raises UserError on a
    bad spec, OSError or GitError when the worktree is unusable."""
    args = RecipeArgs(NAME, task.spec, ("command", "ok_exit_codes"))
    command = expand_command(args.required_str("command"), task.owned_paths)
    ok_codes = _ok_exit_codes(args)
    before = _untracked(ctx.worktree)
    result = sandbox.run_shell(
        command, ctx.worktree, ctx.sandbox, timeout_s=ctx.timeout_s, owner=ctx.attempt_id
    )
    return command, ok_codes, result, _remove_byproducts(task, ctx.worktree, before)


class CommandWorker:
    """Runs a task's command in its worktree with ``{files}`` set to the task's files."""

    name = BACKEND

    def run(self, task: Task, ctx: WorkContext) -> WorkerResult:
        """Status "ok" when the exit code is in ok_exit_codes, "timeout" after ``ctx.timeout_s``,
        "error" when the command could not run or exited otherwise. The log holds the command,
        its exit code, the tail of its output (stdout and stderr merged) and the untracked files
        it created outside the task's files, which are deleted."""
        start = time.monotonic()
        try:
            command, ok_codes, result, removed = _run_in(task, ctx)
        except (UserError, OSError, GitError) as exc:
            return WorkerResult(status="error", error=str(exc), duration_s=time.monotonic() - start)
        log = f"$ {command}\nexit code: {result.returncode}\n{result.output}"
        if removed:
            log += f"\nremoved files created outside the task: {', '.join(removed)}"
        failure = _outcome(result, ok_codes, ctx.timeout_s)
        duration = time.monotonic() - start
        if failure is not None:
            status = "timeout" if result.timed_out else "error"
            return WorkerResult(status=status, error=failure, log=log, duration_s=duration)
        return WorkerResult(
            status="ok",
            rationale=f"ran `{task.spec['command']}` on {counted(len(task.owned_paths), 'file')}: "
            f"exit code {result.returncode}",
            log=log,
            duration_s=duration,
        )


RECIPE = Recipe(
    name=NAME,
    summary="a shell command run per module with {files} set to its files (e.g. ruff --fix)",
    planner=CommandPlanner(),
    backend=CommandWorker(),
)
