"""The command recipe: one shell command per module, {files} expanded, exit codes judged."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import JsonValue

from crewchief.attempts.procs import MAX_OUTPUT_BYTES
from crewchief.backends.base import WorkContext
from crewchief.errors import UserError
from crewchief.recipes.command import RECIPE
from crewchief.records import ChangeRequest, Plan, Task, WorkerResult

from .recipe_repos import RepoWith, WorktreeOf, changed_files

FILES: dict[str, str | bytes] = {
    "pkg/__init__.py": "",
    "pkg/a.py": "a\n",
    "pkg/data.json": "{}\n",
    "docs/my notes.txt": "notes\n",
    "docs/index.md": "# x\n",
    "README.md": "readme\n",
}


def plan(repo: Path, **args: JsonValue) -> Plan:
    request = ChangeRequest(goal="run", recipe="command", recipe_args=args)
    return RECIPE.planner.plan(request, repo)


def command_task(files: tuple[str, ...], command: str, **spec: JsonValue) -> Task:
    return Task(
        id="t1",
        title="command",
        instructions="run",
        owned_paths=files,
        backend="recipe:command",
        spec={"command": command, **spec},
    )


def run(ctx: WorkContext, files: tuple[str, ...], command: str, **spec: JsonValue) -> WorkerResult:
    return RECIPE.backend.run(command_task(files, command, **spec), ctx)


def test_plan_covers_every_tracked_file_by_default(repo_with: RepoWith) -> None:
    assert plan(repo_with(FILES), command="true {files}").files == tuple(sorted(FILES))


def test_plan_makes_one_task_per_package_with_the_command_in_the_spec(
    repo_with: RepoWith,
) -> None:
    p = plan(repo_with(FILES), command="ruff check --fix {files}")
    assert [t.owned_paths for t in p.tasks] == [
        ("README.md",),
        ("docs/index.md", "docs/my notes.txt"),
        ("pkg/__init__.py", "pkg/a.py", "pkg/data.json"),
    ]
    assert {t.backend for t in p.tasks} == {"recipe:command"}
    assert p.tasks[0].spec == {"command": "ruff check --fix {files}", "ok_exit_codes": [0, 1]}


def test_glob_selects_files_by_name(repo_with: RepoWith) -> None:
    assert plan(repo_with(FILES), command="x {files}", glob="*.md").files == (
        "README.md",
        "docs/index.md",
    )


def test_lang_selects_that_languages_files(repo_with: RepoWith) -> None:
    p = plan(repo_with(FILES), command="x {files}", lang="python", split="file")
    assert [t.owned_paths for t in p.tasks] == [("pkg/__init__.py",), ("pkg/a.py",)]


def test_command_without_files_placeholder_is_flagged(repo_with: RepoWith) -> None:
    p = plan(repo_with(FILES), command="make fmt")
    assert p.risks == ("command has no {files}: every task runs the same command",)


BAD_INPUTS: dict[str, tuple[dict[str, JsonValue], str]] = {
    "missing command": ({}, "command: missing argument 'command'"),
    "ok_exit_codes not a list": (
        {"command": "x", "ok_exit_codes": 1},
        "argument 'ok_exit_codes' must be a list of integers",
    ),
    "ok_exit_codes with 127": (
        {"command": "x", "ok_exit_codes": [0, 127]},
        "ok_exit_codes may not contain 127",
    ),
    "glob selecting nothing": ({"command": "x", "glob": "*.rs"}, "no tracked files named *.rs"),
    "unknown language": ({"command": "x", "lang": "cobol"}, "unknown language 'cobol'"),
    "invalid split": ({"command": "x", "split": "repo"}, "invalid split 'repo'"),
}


@pytest.mark.parametrize("args, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_a_user_error_with_a_one_line_message(
    repo_with: RepoWith, args: dict[str, JsonValue], message: str
) -> None:
    repo = repo_with(FILES)
    with pytest.raises(UserError) as caught:
        plan(repo, **args)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_files_placeholder_expands_to_the_tasks_files_shell_quoted(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with(FILES))
    files = ("docs/index.md", "docs/my notes.txt")
    result = run(ctx, files, 'for f in {files}; do echo edited >> "$f"; done')
    assert result.status == "ok"
    assert changed_files(ctx) == ['"docs/my notes.txt"', "docs/index.md"]
    assert (ctx.worktree / "docs/my notes.txt").read_text() == "notes\nedited\n"
    assert "$ for f in docs/index.md 'docs/my notes.txt'; do" in result.log


def test_exit_code_one_is_accepted_by_default_and_logged(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with(FILES))
    result = run(ctx, ("pkg/a.py",), "echo unfixable issue; exit 1", ok_exit_codes=[0, 1])
    assert result.status == "ok"
    assert "exit code: 1" in result.log
    assert "unfixable issue" in result.log


def test_exit_code_outside_ok_exit_codes_is_an_error(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with(FILES))
    result = run(ctx, ("pkg/a.py",), "exit 2", ok_exit_codes=[0, 1])
    assert result.status == "error"
    assert result.error == "exit code 2 is not in ok_exit_codes [0, 1]"


def test_ok_exit_codes_decide_what_counts_as_success(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with(FILES))
    assert run(ctx, ("pkg/a.py",), "exit 2", ok_exit_codes=[0, 2]).status == "ok"
    assert run(ctx, ("pkg/a.py",), "exit 1", ok_exit_codes=[0]).status == "error"


def test_command_not_found_is_an_error(repo_with: RepoWith, worktree_of: WorktreeOf) -> None:
    ctx = worktree_of(repo_with(FILES))
    result = run(ctx, ("pkg/a.py",), "no-such-tool-crewchief {files}")
    assert result.status == "error"
    assert result.error is not None and "could not run (exit 127)" in result.error


def test_command_running_past_the_timeout_is_killed(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with(FILES), timeout_s=0.5)
    result = run(ctx, ("pkg/a.py",), "sleep 30; echo never")
    assert result.status == "timeout"
    assert result.error == "timed out after 0.5s"
    assert result.duration_s < 10


def test_output_is_bounded_to_its_tail(repo_with: RepoWith, worktree_of: WorktreeOf) -> None:
    ctx = worktree_of(repo_with(FILES))
    result = run(ctx, ("pkg/a.py",), "yes line | head -c 300000; echo; echo THE-END")
    assert result.status == "ok"
    assert len(result.log) < MAX_OUTPUT_BYTES + 1000
    assert result.log.rstrip().endswith("THE-END")


def test_planned_tasks_run_in_a_worktree_change_only_their_files(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    repo = repo_with(FILES)
    p = plan(repo, command='for f in {files}; do echo x >> "$f"; done', glob="*.md")
    ctx = worktree_of(repo)
    assert {RECIPE.backend.run(t, ctx).status for t in p.tasks} == {"ok"}
    assert changed_files(ctx) == ["README.md", "docs/index.md"]


def test_untracked_byproducts_outside_the_task_are_removed_and_logged(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with(FILES))
    result = run(ctx, ("pkg/a.py",), "mkdir -p cache && echo x > cache/junk && echo y >> {files}")
    assert result.status == "ok"
    assert changed_files(ctx) == ["pkg/a.py"]
    assert "removed files created outside the task: cache/junk" in result.log


def test_tracked_files_changed_outside_the_task_are_left_for_the_gate(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with(FILES))
    run(ctx, ("pkg/a.py",), "echo y >> README.md")
    assert changed_files(ctx) == ["README.md"]
