"""Delta debugging (ddmin) over a red build's changes, and landing units in merge order:
properties over random cases, and the failure identities read from a suite's output."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from crewchief.merge.culprit import RED, ddmin, failures, reproduces
from crewchief.merge.groups import units
from crewchief.records import CheckResult, LandingGroup, Plan, Task


@st.composite
def items_and_culprits(draw: st.DrawFn) -> tuple[list[int], set[int]]:
    n = draw(st.integers(1, 24))
    items = list(range(n))
    culprits = draw(st.sets(st.sampled_from(items), min_size=1, max_size=min(n, 4)))
    return items, culprits


@given(items_and_culprits())
def test_ddmin_finds_exactly_the_changes_that_fail_only_together(
    case: tuple[list[int], set[int]],
) -> None:
    items, culprits = case
    calls: list[tuple[int, ...]] = []

    def fails(sub: Sequence[int]) -> bool:
        calls.append(tuple(sub))
        return culprits <= set(sub)

    found = ddmin(items, fails)
    assert set(found) == culprits
    assert found == sorted(found)  # order kept
    assert len(calls) == len(set(calls))  # no configuration tested twice


@given(items_and_culprits())
def test_ddmin_names_one_culprit_when_any_one_of_them_fails(
    case: tuple[list[int], set[int]],
) -> None:
    items, culprits = case
    found = ddmin(items, lambda sub: bool(culprits & set(sub)))
    assert len(found) == 1 and found[0] in culprits


@given(items_and_culprits(), st.sets(st.integers(0, 23), max_size=6))
def test_ddmin_result_is_one_minimal_and_fails(
    case: tuple[list[int], set[int]], needed: set[int]
) -> None:
    """A change that needs others to be green (a half-done rename is red another way) never
    hides the culprit: the result fails and every single removal from it passes."""
    items, culprits = case

    def fails(sub: Sequence[int]) -> bool:
        return culprits <= set(sub) and (needed & set(items)) - culprits <= set(sub)

    found = ddmin(items, fails)
    assert fails(found)
    for x in found:
        assert not fails([y for y in found if y != x])


def test_failures_are_the_summary_lines_of_a_red_run() -> None:
    out = "...\nFAILED tests/t.py::test_a - assert 4 == 3\nERROR tests/t.py::test_b\n1 failed"
    red = CheckResult(name="s", kind="suite", passed=False, output=out)
    assert failures(red) == {
        "FAILED tests/t.py::test_a - assert 4 == 3",
        "ERROR tests/t.py::test_b",
    }


def test_a_red_run_that_names_no_test_is_reproduced_by_any_red_run() -> None:
    red = CheckResult(name="s", kind="suite", passed=False, output="make: *** [test] Error 1")
    other = CheckResult(name="s", kind="suite", passed=False, output="FAILED t.py::x - boom")
    assert failures(red) == {RED}
    assert reproduces(failures(red), other)


def test_a_different_failure_of_the_same_test_does_not_reproduce() -> None:
    wrong = CheckResult(
        name="s", kind="suite", passed=False, output="FAILED t.py::x - assert 4 == 3"
    )
    missing = CheckResult(
        name="s", kind="suite", passed=False, output="FAILED t.py::x - AttributeError: no new_api"
    )
    assert not reproduces(failures(wrong), missing)


def _plan(n: int, deps: dict[int, set[int]], grouped: list[set[int]]) -> Plan:
    tasks = tuple(
        Task(
            id=f"t{i}",
            title="t",
            instructions="x",
            owned_paths=(f"f{i}",),
            depends_on=tuple(f"t{d}" for d in sorted(deps.get(i, set()))),
            backend="recipe:command",
        )
        for i in range(n)
    )
    groups = tuple(
        LandingGroup(name=f"g{k}", tasks=tuple(f"t{i}" for i in sorted(g)))
        for k, g in enumerate(grouped)
    )
    return Plan(goal="g", planner="p", tasks=tasks, landing_groups=groups)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    n = draw(st.integers(1, 10))
    deps = {i: draw(st.sets(st.integers(0, i - 1), max_size=2)) if i else set() for i in range(n)}
    free = list(range(n))
    grouped: list[set[int]] = []
    for _ in range(draw(st.integers(0, 3))):
        g = draw(st.sets(st.sampled_from(free), max_size=3)) if free else set()
        if g:
            grouped.append(g)
            free = [i for i in free if i not in g]
    return _plan(n, deps, grouped)


@given(plans())
def test_units_keep_groups_whole_and_dependencies_first(plan: Plan) -> None:
    from crewchief.merge.groups import problems
    from crewchief.merge.integrate import merge_order

    if problems(plan):
        return  # such a plan is refused before it runs
    order = merge_order(plan, {t.id for t in plan.tasks})
    cut = units(plan, order)
    flat = [t for u in cut for t in u]
    assert sorted(flat) == sorted(order)
    for g in plan.landing_groups:
        assert set(g.tasks) in [set(u) for u in cut]
    for t in plan.tasks:
        for d in t.depends_on:
            assert flat.index(d) < flat.index(t.id) or _same_unit(cut, d, t.id)


def _same_unit(cut: list[tuple[str, ...]], a: str, b: str) -> bool:
    return any(a in u and b in u for u in cut)


def test_landing_groups_that_depend_on_each_other_are_refused() -> None:
    """Found by the property above: g1's t1 needs g0's t0, g0's t3 needs g1's t2."""
    from crewchief.merge.groups import problems

    plan = _plan(4, {0: set(), 1: {0}, 2: set(), 3: {0, 2}}, [{0, 3}, {1, 2}])
    found = problems(plan)
    assert found and all("depends on work that depends on it" in p for p in found)
