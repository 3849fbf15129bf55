"""The codemod planner: which files it finds, how it splits them, which inputs it refuses."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from pydantic import JsonValue

from crewchief.errors import UserError
from crewchief.recipes.codemod import RECIPE
from crewchief.records import ChangeRequest, Plan
from repo_helpers import git, init_repo, write_files

from .recipe_repos import RepoWith

FILES: dict[str, str | bytes] = {
    "setup.py": "f(5)\n",
    "src/app/__init__.py": "",
    "src/app/core.py": "x = f(1)\n",
    "src/app/sub/__init__.py": "",
    "src/app/sub/deep.py": "y = f(2)\n",
    "src/other/__init__.py": "",
    "src/other/mod.py": "f(3)\n",
    "tests/test_a.py": "f(4)\n",
    "tests/unit/test_b.py": "z = 1\n",
    "README.md": "f(6)\n",
    "web/app.js": "f(7);\n",
}
MATCHING = (
    "setup.py",
    "src/app/core.py",
    "src/app/sub/deep.py",
    "src/other/mod.py",
    "tests/test_a.py",
)


def plan(repo: Path, focus: tuple[str, ...] = (), **args: JsonValue) -> Plan:
    base: dict[str, JsonValue] = {"lang": "python", "pattern": "f($A)", "rewrite": "g($A)"}
    request = ChangeRequest(
        goal="f → g", recipe="codemod", recipe_args={**base, **args}, focus=focus
    )
    return RECIPE.planner.plan(request, repo)


def owned(p: Plan) -> list[tuple[str, ...]]:
    return [t.owned_paths for t in p.tasks]


def test_plan_lists_exactly_the_tracked_files_of_the_language_that_match(
    repo_with: RepoWith,
) -> None:
    assert plan(repo_with(FILES)).files == MATCHING


def test_package_split_groups_by_outermost_python_package_then_top_directory(
    repo_with: RepoWith,
) -> None:
    assert owned(plan(repo_with(FILES), split="package")) == [
        ("setup.py",),
        ("src/app/core.py", "src/app/sub/deep.py"),
        ("src/other/mod.py",),
        ("tests/test_a.py",),
    ]


def test_package_is_the_default_split(repo_with: RepoWith) -> None:
    repo = repo_with(FILES)
    assert owned(plan(repo)) == owned(plan(repo, split="package"))


def test_dir_split_makes_one_task_per_directory(repo_with: RepoWith) -> None:
    assert owned(plan(repo_with(FILES), split="dir")) == [
        ("setup.py",),
        ("src/app/core.py",),
        ("src/app/sub/deep.py",),
        ("src/other/mod.py",),
        ("tests/test_a.py",),
    ]


def test_file_split_makes_one_task_per_file(repo_with: RepoWith) -> None:
    assert owned(plan(repo_with(FILES), split="file")) == [(f,) for f in MATCHING]


def test_tasks_own_disjoint_files_that_together_are_the_plan_files(repo_with: RepoWith) -> None:
    p = plan(repo_with(FILES))
    all_owned = [path for t in p.tasks for path in t.owned_paths]
    assert sorted(all_owned) == sorted(p.files)
    assert len(all_owned) == len(set(all_owned))
    assert not any(path.endswith("/") for path in all_owned)


def test_tasks_are_numbered_in_order_and_carry_the_recipe_spec(repo_with: RepoWith) -> None:
    p = plan(repo_with(FILES))
    assert [t.id for t in p.tasks] == ["t1", "t2", "t3", "t4"]
    assert p.parallel_groups == (("t1", "t2", "t3", "t4"),)
    for t in p.tasks:
        assert t.backend == "recipe:codemod"
        assert t.spec == {"lang": "python", "pattern": "f($A)", "rewrite": "g($A)"}
        assert t.risk == "low"
        assert "f($A)" in t.title
        assert all(path in t.instructions for path in t.owned_paths)


def test_planning_twice_gives_the_same_plan(repo_with: RepoWith) -> None:
    repo = repo_with(FILES)
    assert plan(repo) == plan(repo)


def test_plan_reads_head_not_the_working_tree(repo_with: RepoWith) -> None:
    repo = repo_with(FILES)
    write_files(repo, {"src/other/mod.py": "nothing here\n", "untracked.py": "f(9)\n"})
    (repo / ".gitignore").write_text("ignored.py\n")
    write_files(repo, {"ignored.py": "f(10)\n"})
    assert plan(repo).files == MATCHING


def test_paths_limit_the_search(repo_with: RepoWith) -> None:
    repo = repo_with(FILES)
    assert plan(repo, paths=["src/other", "tests/"]).files == (
        "src/other/mod.py",
        "tests/test_a.py",
    )


def test_paths_accept_globs(repo_with: RepoWith) -> None:
    assert plan(repo_with(FILES), paths=["src/**/deep.py"]).files == ("src/app/sub/deep.py",)


def test_request_focus_limits_the_search_when_paths_are_absent(repo_with: RepoWith) -> None:
    assert plan(repo_with(FILES), focus=("tests",)).files == ("tests/test_a.py",)


def test_language_alias_selects_that_languages_files(repo_with: RepoWith) -> None:
    p = plan(repo_with(FILES), lang="js", pattern="f($A)", rewrite="g($A)")
    assert p.files == ("web/app.js",)
    assert p.tasks[0].spec["lang"] == "javascript"


def test_typescript_plan_skips_javascript_files(repo_with: RepoWith) -> None:
    repo = repo_with(
        {"web/a.ts": "console.log(1);\n", "web/b.js": "console.log(2);\n", "web/c.tsx": "x;\n"}
    )
    p = plan(repo, lang="ts", pattern="console.log($$$A)", rewrite="logger.debug($$$A)")
    assert p.files == ("web/a.ts",)


def test_symlinks_are_not_planned(repo_with: RepoWith) -> None:
    repo = repo_with(FILES)
    (repo / "link.py").symlink_to("setup.py")
    git(repo, "add", "link.py")
    git(repo, "commit", "-q", "-m", "link")
    assert "link.py" not in plan(repo).files


def test_non_utf8_files_are_skipped_and_named_in_the_risks(repo_with: RepoWith) -> None:
    repo = repo_with({**FILES, "latin.py": "f('caf\xe9')\n".encode("latin-1")})
    p = plan(repo)
    assert "latin.py" not in p.files
    assert any("latin.py" in r and "UTF-8" in r for r in p.risks)


def test_bare_metavariable_pattern_is_allowed_but_flagged(repo_with: RepoWith) -> None:
    p = plan(repo_with(FILES), pattern="$A", rewrite="$A")
    assert p.risks and "bare metavariable" in p.risks[0]
    assert {t.risk for t in p.tasks} == {"medium"}


BAD_INPUTS: Mapping[str, tuple[dict[str, JsonValue], str]] = {
    "unknown language": ({"lang": "klingon"}, "unknown language 'klingon'"),
    "missing pattern": ({"pattern": None}, "codemod: missing argument 'pattern'"),
    "missing rewrite": ({"rewrite": None}, "codemod: missing argument 'rewrite'"),
    "missing language": ({"lang": None}, "codemod: missing argument 'lang'"),
    "blank pattern": ({"pattern": "  "}, "argument 'pattern' must be a non-empty string"),
    "pattern of several nodes": ({"pattern": "a b c"}, "Multiple AST nodes are detected"),
    "pattern matching nothing": (
        {"pattern": "nope($A)"},
        "pattern 'nope($A)' matched nothing in 9 python files",
    ),
    "pattern that does not parse": ({"pattern": "f($A"}, "(it does not parse as python)"),
    "rewrite using an uncaptured metavariable": (
        {"rewrite": "g($B)"},
        "uses $B, which pattern 'f($A)' does not capture",
    ),
    "invalid split": ({"split": "module"}, "invalid split 'module'"),
    "misspelt argument": ({"rewite": "x"}, "unknown argument 'rewite'"),
    "path escaping the repository": ({"paths": ["../x"]}, "without '..'"),
    "paths selecting nothing": ({"paths": ["nowhere"]}, "no tracked python files under nowhere"),
}


@pytest.mark.parametrize("args, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_a_user_error_with_a_one_line_message(
    repo_with: RepoWith, args: dict[str, JsonValue], message: str
) -> None:
    repo = repo_with(FILES)
    base: dict[str, JsonValue] = {"lang": "python", "pattern": "f($A)", "rewrite": "g($A)"}
    merged = {k: v for k, v in {**base, **args}.items() if v is not None}
    request = ChangeRequest(goal="g", recipe="codemod", recipe_args=merged)
    with pytest.raises(UserError) as caught:
        RECIPE.planner.plan(request, repo)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_repository_without_commits_is_a_user_error(tmp_path: Path) -> None:
    init_repo(tmp_path)
    request = ChangeRequest(
        goal="g", recipe="codemod", recipe_args={"lang": "py", "pattern": "f()", "rewrite": "g()"}
    )
    with pytest.raises(UserError, match="no commits"):
        RECIPE.planner.plan(request, tmp_path)


def test_selector_is_checked_and_carried_in_the_task_spec(repo_with: RepoWith) -> None:
    repo = repo_with({"main.go": 'package main\n\nfunc main() {\n\tfmt.Println("hi")\n}\n'})
    p = plan(
        repo,
        lang="go",
        pattern="func t() { fmt.Println($$$A) }",
        selector="call_expression",
        rewrite="log.Print($$$A)",
    )
    assert p.files == ("main.go",)
    assert p.tasks[0].spec["selector"] == "call_expression"
