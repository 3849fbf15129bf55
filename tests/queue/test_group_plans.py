"""Where landing groups come from and which are refused: the codemod recipe's one group, a
plan's declared groups, and the mechanical checks every plan passes before it runs."""

from __future__ import annotations

from pathlib import Path

from crewchief.recipes.codemod import RECIPE
from crewchief.records import ChangeRequest, LandingGroup, Plan, Task
from crewchief.run.plan import validate
from repo_helpers import make_repo


def _task(task_id: str, *deps: str) -> Task:
    return Task(
        id=task_id,
        title=task_id,
        instructions="x",
        owned_paths=(f"{task_id}.py",),
        depends_on=deps,
        backend="recipe:command",
    )


def _plan(tasks: list[Task], *groups: tuple[str, tuple[str, ...]]) -> Plan:
    landing = tuple(LandingGroup(name=n, tasks=ids) for n, ids in groups)
    return Plan(goal="g", planner="p", tasks=tuple(tasks), landing_groups=landing)


def test_a_group_naming_an_unknown_task_is_refused() -> None:
    problems = validate(_plan([_task("a")], ("g", ("a", "zz"))), 10)
    assert problems == ["landing group 'g' names unknown task zz"]


def test_a_task_in_two_groups_is_refused() -> None:
    plan = _plan([_task("a"), _task("b")], ("g", ("a",)), ("h", ("a", "b")))
    assert validate(plan, 10) == ["task a is in landing groups 'g' and 'h'"]


def test_a_group_that_an_outside_task_would_split_is_refused() -> None:
    plan = _plan([_task("a"), _task("x", "a"), _task("b", "x")], ("g", ("a", "b")))
    assert validate(plan, 10) == [
        "landing group 'g' cannot land as one: x depends on a member and another member "
        "depends on it"
    ]


def test_codemod_tasks_form_one_landing_group_unless_told_otherwise(tmp_path: Path) -> None:
    files = {f"{pkg}/__init__.py": "" for pkg in "abc"}
    files |= {f"{pkg}/m.py": "x = f(1)\n" for pkg in "abc"}
    repo = make_repo(tmp_path / "r", files, message="i")
    args = {"lang": "python", "pattern": "f($A)", "rewrite": "g($A)"}
    grouped = RECIPE.planner.plan(ChangeRequest(goal="g", recipe="codemod", recipe_args=args), repo)
    assert [(g.name, g.tasks) for g in grouped.landing_groups] == [("codemod", ("t1", "t2", "t3"))]
    apart = ChangeRequest(goal="g", recipe="codemod", recipe_args={**args, "group": False})
    assert RECIPE.planner.plan(apart, repo).landing_groups == ()
