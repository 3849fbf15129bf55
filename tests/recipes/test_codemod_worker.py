"""The codemod worker: exact rewrites of exactly its task's files, bytes kept elsewhere."""

from __future__ import annotations

from pathlib import Path

from crewchief.backends.base import WorkContext
from crewchief.recipes.codemod import RECIPE
from crewchief.records import ChangeRequest, Task, WorkerResult

from .recipe_repos import RepoWith, WorktreeOf, changed_files


def task(files: tuple[str, ...], pattern: str, rewrite: str, lang: str = "python") -> Task:
    return Task(
        id="t1",
        title="codemod",
        instructions="rewrite",
        owned_paths=files,
        backend="recipe:codemod",
        spec={"lang": lang, "pattern": pattern, "rewrite": rewrite},
    )


def run(ctx: WorkContext, files: tuple[str, ...], pattern: str, rewrite: str) -> WorkerResult:
    return RECIPE.backend.run(task(files, pattern, rewrite), ctx)


def read(ctx: WorkContext, rel: str) -> bytes:
    return (ctx.worktree / rel).read_bytes()


def test_single_metavariable_is_filled_in(repo_with: RepoWith, worktree_of: WorktreeOf) -> None:
    ctx = worktree_of(repo_with({"a.py": "x = old(a + 1)\n"}))
    result = run(ctx, ("a.py",), "old($A)", "new($A)")
    assert result.status == "ok"
    assert read(ctx, "a.py") == b"x = new(a + 1)\n"


def test_multi_metavariable_keeps_separators_comments_and_line_breaks(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    source = "call(1,\n     two=2,  # keep me\n     *rest)\ncall()\n"
    ctx = worktree_of(repo_with({"a.py": source}))
    run(ctx, ("a.py",), "call($$$ARGS)", "invoke(ctx, $$$ARGS)")
    assert read(ctx, "a.py") == (
        b"invoke(ctx, 1,\n     two=2,  # keep me\n     *rest)\ninvoke(ctx, )\n"
    )


def test_metavariables_can_be_reordered_and_repeated(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.py": "assertEqual(got, want)\n"}))
    run(ctx, ("a.py",), "assertEqual($A, $B)", "assert $B == $A, ($A, $B)")
    assert read(ctx, "a.py") == b"assert want == got, (got, want)\n"


def test_nested_calls_are_all_rewritten_once(repo_with: RepoWith, worktree_of: WorktreeOf) -> None:
    ctx = worktree_of(repo_with({"a.py": "y = f(f(f(x)), f(1))\n"}))
    result = run(ctx, ("a.py",), "f($$$A)", "g($$$A)")
    assert read(ctx, "a.py") == b"y = g(g(g(x)), g(1))\n"
    assert result.rationale.startswith("rewrote 4 matches")


def test_rewrite_that_still_matches_its_pattern_is_applied_only_once(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.py": "f(x)\n"}))
    run(ctx, ("a.py",), "f($$$A)", "f($$$A, strict=True)")
    assert read(ctx, "a.py") == b"f(x, strict=True)\n"


def test_crlf_file_without_final_newline_keeps_its_bytes(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    source = b"import os\r\n\r\n# caf\xc3\xa9\r\nx = old(1)\r\ny = old(2)"
    ctx = worktree_of(repo_with({"a.py": source}))
    run(ctx, ("a.py",), "old($A)", "new($A)")
    assert read(ctx, "a.py") == source.replace(b"old", b"new")


def test_multi_line_rewrite_follows_the_files_line_endings_and_indentation(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.py": b"def h():\r\n    print(x)\r\n"}))
    run(ctx, ("a.py",), "print($A)", "if DEBUG:\n    log($A)")
    assert read(ctx, "a.py") == b"def h():\r\n    if DEBUG:\r\n        log(x)\r\n"


def test_byte_order_mark_is_kept(repo_with: RepoWith, worktree_of: WorktreeOf) -> None:
    ctx = worktree_of(repo_with({"a.py": b"\xef\xbb\xbfold(1)\n"}))
    run(ctx, ("a.py",), "old($A)", "new($A)")
    assert read(ctx, "a.py") == b"\xef\xbb\xbfnew(1)\n"


def test_owned_files_without_matches_and_unowned_files_are_untouched(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.py": "old(1)\n", "b.py": "other(1)\n", "c.py": "old(3)\n"}))
    result = run(ctx, ("a.py", "b.py"), "old($A)", "new($A)")
    assert changed_files(ctx) == ["a.py"]
    assert result.rationale == "rewrote 1 match of `old($A)` in 1 file"


def test_non_utf8_file_is_an_error_and_nothing_is_written(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.py": "old(1)\n", "b.py": "old('caf\xe9')\n".encode("latin-1")}))
    result = run(ctx, ("a.py", "b.py"), "old($A)", "new($A)")
    assert result.status == "error"
    assert result.error is not None and "b.py is not UTF-8" in result.error
    assert changed_files(ctx) == []


def test_missing_owned_file_is_an_error(repo_with: RepoWith, worktree_of: WorktreeOf) -> None:
    ctx = worktree_of(repo_with({"a.py": "old(1)\n"}))
    result = run(ctx, ("gone.py",), "old($A)", "new($A)")
    assert result.status == "error"
    assert result.error == "gone.py is not a regular file in the worktree"


def test_bad_spec_is_an_error_result_not_an_exception(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.py": "old(1)\n"}))
    result = RECIPE.backend.run(task(("a.py",), "old($A)", "new($A)", lang="klingon"), ctx)
    assert result.status == "error"
    assert result.error is not None and "unknown language 'klingon'" in result.error


def test_typescript_codemod_rewrites_calls(repo_with: RepoWith, worktree_of: WorktreeOf) -> None:
    source = "export function f(a: number): void {\n  console.log(`a=${a}`, a as any);\n}\n"
    ctx = worktree_of(repo_with({"web/a.ts": source}))
    result = RECIPE.backend.run(
        task(("web/a.ts",), "console.log($$$ARGS)", "logger.debug($$$ARGS)", lang="ts"), ctx
    )
    assert result.status == "ok"
    assert read(ctx, "web/a.ts") == source.replace("console.log", "logger.debug").encode()


def test_javascript_codemod_rewrites_member_calls(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.js": "const x = $.ajax(url, {cache: false});\n"}))
    result = RECIPE.backend.run(
        task(("a.js",), "$.ajax($U, $O)", "fetchJson($U, $O)", lang="javascript"), ctx
    )
    assert result.status == "ok"
    assert read(ctx, "a.js") == b"const x = fetchJson(url, {cache: false});\n"


def test_running_every_planned_task_changes_exactly_the_planned_files(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    repo = repo_with(
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "old(1)\n",
            "pkg/b.py": "keep(1)\n",
            "tools/c.py": "old(old(2))\n",
            "main.py": "old(3)\n",
        }
    )
    request = ChangeRequest(
        goal="old → new",
        recipe="codemod",
        recipe_args={"lang": "python", "pattern": "old($A)", "rewrite": "new($A)"},
    )
    plan = RECIPE.planner.plan(request, repo)
    ctx = worktree_of(repo)
    results = [RECIPE.backend.run(t, ctx) for t in plan.tasks]
    assert {r.status for r in results} == {"ok"}
    assert changed_files(ctx) == sorted(plan.files) == ["main.py", "pkg/a.py", "tools/c.py"]
    assert (ctx.worktree / "tools/c.py").read_text() == "new(new(2))\n"


def test_worker_never_writes_outside_its_worktree(
    repo_with: RepoWith, worktree_of: WorktreeOf, tmp_path: Path
) -> None:
    repo = repo_with({"a.py": "old(1)\n"})
    ctx = worktree_of(repo)
    run(ctx, ("a.py",), "old($A)", "new($A)")
    assert (repo / "a.py").read_text() == "old(1)\n"


def test_owned_symlink_is_an_error_and_its_target_untouched(
    repo_with: RepoWith, worktree_of: WorktreeOf
) -> None:
    ctx = worktree_of(repo_with({"a.py": "old(1)\n"}))
    (ctx.worktree / "link.py").symlink_to("a.py")
    result = run(ctx, ("link.py",), "old($A)", "new($A)")
    assert result.status == "error"
    assert read(ctx, "a.py") == b"old(1)\n"
