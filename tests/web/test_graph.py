"""The plan's dependency graph on the page: layout and the SVG the page inlines."""

from __future__ import annotations

from crewchief.web.graph import MAX_COLS, layout, plan_svg


def task(tid: str, *deps: str, title: str = "") -> dict[str, object]:
    return {"id": tid, "title": title or f"task {tid}", "depends_on": list(deps)}


def test_tasks_at_the_same_depth_share_a_row_below_their_dependencies() -> None:
    nodes = {n.task: n for n in layout([task("a"), task("b"), task("c", "a", "b")])}
    assert nodes["a"].y == nodes["b"].y < nodes["c"].y
    assert nodes["a"].x < nodes["b"].x


def test_a_wide_row_wraps() -> None:
    nodes = layout([task(f"t{i}") for i in range(MAX_COLS + 1)])
    assert len({n.y for n in nodes}) == 2


def test_svg_links_each_node_escapes_text_and_draws_one_edge_per_dependency() -> None:
    svg = plan_svg(
        [task("a", title="<b>x</b>"), task("b", "a")],
        {"a": "verified"},
        lambda t: f"/runs/r/tasks/{t}",
    )
    assert svg.count('class="edge"') == 1
    assert 'href="/runs/r/tasks/a"' in svg and 'href="/runs/r/tasks/b"' in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg and "<b>x" not in svg
    assert 'class="node state-verified" data-task-node="a"' in svg
    assert 'class="node state-?" data-task-node="b"' in svg


def test_an_empty_plan_draws_nothing() -> None:
    assert plan_svg([], {}, str) == ""
