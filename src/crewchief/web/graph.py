"""The plan's dependency graph as inline SVG, laid out on the server: no script needed.

Tasks stand in rows by depth (a task sits one row below its deepest dependency), so the usual
wide and shallow plan reads across the page; a row wider than ``MAX_COLS`` wraps. Each node links
to its task's page and carries its state as a class, so the page's script can recolour it live.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from crewchief.run.taskgraph import TaskGraph

NODE_W, NODE_H = 132, 40
GAP_X, GAP_Y, WRAP_GAP, PAD = 16, 40, 12, 10
MAX_COLS = 7
LABEL_CHARS = 16


@dataclass(frozen=True)
class Node:
    task: str
    title: str
    x: int
    y: int


def layout(tasks: Sequence[Mapping[str, object]]) -> list[Node]:
    """Positions of ``tasks`` (plan dicts with id, title, depends_on), in plan order per row."""
    deps = {str(t["id"]): [str(d) for d in _seq(t["depends_on"])] for t in tasks}
    level = TaskGraph.of_pairs(deps.items()).depths()
    rows: dict[int, list[Mapping[str, object]]] = {}
    for t in tasks:
        rows.setdefault(level[str(t["id"])], []).append(t)
    nodes, y = [], PAD
    for lvl in sorted(rows):
        members = rows[lvl]
        for i, t in enumerate(members):
            wrap, col = divmod(i, MAX_COLS)
            nodes.append(
                Node(
                    str(t["id"]),
                    str(t["title"]),
                    PAD + col * (NODE_W + GAP_X),
                    y + wrap * (NODE_H + WRAP_GAP),
                )
            )
        wraps = -(-len(members) // MAX_COLS)
        y += wraps * (NODE_H + WRAP_GAP) - WRAP_GAP + GAP_Y
    return nodes


def _seq(value: object) -> Sequence[object]:
    return value if isinstance(value, list | tuple) else ()


def plan_svg(
    tasks: Sequence[Mapping[str, object]],
    states: Mapping[str, str],
    href: Callable[[str], str],
) -> Markup:
    """The graph as an ``<svg>`` element: nodes link to ``href(task)``, edges point from a
    dependency to the task that waits for it."""
    nodes = layout(tasks)
    if not nodes:
        return Markup("")
    at = {n.task: n for n in nodes}
    width = max(n.x for n in nodes) + NODE_W + PAD
    height = max(n.y for n in nodes) + NODE_H + PAD
    edges = [
        _edge(at[str(d)], at[str(t["id"])])
        for t in tasks
        for d in _seq(t["depends_on"])
        if str(d) in at
    ]
    body = "".join(edges) + "".join(_node(n, states.get(n.task, "?"), href(n.task)) for n in nodes)
    return Markup(
        f'<svg class="plan-graph" role="img" aria-label="task dependency graph" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><defs><marker id="arrow" viewBox="0 0 8 8" refX="8" '
        f'refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker></defs>{body}</svg>'
    )


def _edge(src: Node, dst: Node) -> str:
    x1, y1 = src.x + NODE_W // 2, src.y + NODE_H
    x2, y2 = dst.x + NODE_W // 2, dst.y
    bend = max(GAP_Y // 2, (y2 - y1) // 2)
    return (
        f'<path class="edge" d="M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}" '
        f'marker-end="url(#arrow)"/>'
    )


def _node(n: Node, state: str, link: str) -> str:
    label = n.task if len(n.task) <= LABEL_CHARS else n.task[: LABEL_CHARS - 1] + "…"
    return (
        f'<a href="{escape(link)}" class="node-link"><g class="node state-{escape(state)}" '
        f'data-task-node="{escape(n.task)}"><title>{escape(n.task)}: {escape(n.title)}</title>'
        f'<rect x="{n.x}" y="{n.y}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
        f'<text x="{n.x + 10}" y="{n.y + 17}" class="label">{escape(label)}</text>'
        f'<text x="{n.x + 10}" y="{n.y + 32}" class="sub">{escape(state)}</text></g></a>'
    )
