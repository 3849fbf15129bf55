"""The task graph: the one place a plan's dependencies are walked, ordered and measured."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crewchief.run.taskgraph import TaskGraph


def graph(**deps: str) -> TaskGraph:
    return TaskGraph({t: tuple(d.split()) for t, d in deps.items()})


def test_ancestors_are_every_task_depended_on_directly_or_not() -> None:
    assert graph(a="", b="a", c="b", d="").ancestors("c") == {"a", "b"}


def test_an_unknown_task_has_no_ancestors_to_give() -> None:
    with pytest.raises(KeyError):
        graph(a="ghost").ancestors("a")


def test_a_cycle_is_named_by_its_path() -> None:
    assert graph(a="b", b="a", c="").cycles() == ["a → b → a"]


def test_depth_is_the_longest_chain_of_dependencies_inside_the_graph() -> None:
    found = graph(a="", b="a", c="a b", d="outside").depths()
    assert found == {"a": 0, "b": 1, "c": 2, "d": 0}


def test_a_cycle_is_cut_when_measuring_depth() -> None:
    assert set(graph(a="b", b="a").depths()) == {"a", "b"}


def test_order_keeps_priority_except_where_a_dependency_must_come_first() -> None:
    assert graph(a="", b="a", c="").ordered(["b", "c", "a"]) == ["c", "a", "b"]


def test_order_ignores_dependencies_outside_the_tasks_ordered() -> None:
    assert graph(a="", b="a").ordered(["b"]) == ["b"]


def test_order_refuses_a_cycle() -> None:
    with pytest.raises(ValueError, match="dependency cycle among a, b"):
        graph(a="b", b="a").ordered(["a", "b"])


@st.composite
def dags(draw: st.DrawFn) -> tuple[TaskGraph, list[str]]:
    n = draw(st.integers(1, 8))
    ids = [f"t{i}" for i in range(n)]
    deps = {
        t: tuple(draw(st.sets(st.sampled_from(ids[:i]))) if i else ()) for i, t in enumerate(ids)
    }
    return TaskGraph(deps), draw(st.permutations(ids))


@given(dags())
def test_order_is_a_topological_order_of_exactly_the_tasks_given(
    case: tuple[TaskGraph, list[str]],
) -> None:
    g, priority = case
    order = g.ordered(priority)
    assert sorted(order) == sorted(priority)
    assert all(order.index(d) < order.index(t) for t in order for d in g.deps[t])
