"""The task graph: a plan's dependencies as one structure, and every question asked of it —
ancestors, cycles, depth, and the stable topological order that integration, the manager's
summary and the page's graph all use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crewchief.records import Plan


@dataclass(frozen=True)
class TaskGraph:
    """``deps``: each task's direct dependencies, tasks in plan order. A dependency that is not
    a task of the graph is kept as written (``validate`` reports it) and ignored by the orders."""

    deps: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, plan: Plan) -> TaskGraph:
        return cls({t.id: tuple(t.depends_on) for t in plan.tasks})

    @classmethod
    def of_pairs(cls, pairs: Iterable[tuple[str, Sequence[str]]]) -> TaskGraph:
        return cls({task: tuple(deps) for task, deps in pairs})

    def ancestors(self, task_id: str) -> set[str]:
        """Every task ``task_id`` depends on, directly or not (KeyError: an unknown task)."""
        seen: set[str] = set()
        stack = list(self.deps[task_id])
        while stack:
            t = stack.pop()
            if t not in seen:
                seen.add(t)
                stack += self.deps[t]
        return seen

    def cycles(self) -> list[str]:
        """Each dependency cycle once it is met, written ``a → b → a``."""
        state: dict[str, int] = {}

        def visit(node: str, trail: list[str]) -> list[str]:
            if state.get(node) == 1:
                return [" → ".join([*trail[trail.index(node) :], node])]
            if state.get(node) == 2 or node not in self.deps:
                return []
            state[node] = 1
            found = [c for d in sorted(self.deps[node]) for c in visit(d, [*trail, node])]
            state[node] = 2
            return found

        return [c for t in self.deps for c in visit(t, [])]

    def depths(self) -> dict[str, int]:
        """Longest dependency chain below each task (0: depends on nothing in the graph); a
        cycle (``validate`` refuses those) is cut."""
        found: dict[str, int] = {}

        def depth(task: str, seen: frozenset[str]) -> int:
            if task not in found:
                inner = [d for d in self.deps[task] if d in self.deps and d not in seen]
                found[task] = 1 + max((depth(d, seen | {task}) for d in inner), default=-1)
            return found[task]

        for task in self.deps:
            depth(task, frozenset())
        return found

    def ordered(self, priority: Sequence[str]) -> list[str]:
        """The tasks of ``priority``, each after its dependencies among them, otherwise in the
        order of ``priority`` (a stable topological sort). Dependencies outside ``priority``
        are ignored: they are merged already, or not merging. ValueError on a cycle."""
        rank = {t: i for i, t in enumerate(dict.fromkeys(priority))}
        deps = {t: {d for d in self.deps.get(t, ()) if d in rank} for t in rank}
        order: list[str] = []
        done: set[str] = set()
        while len(order) < len(rank):
            nxt = next((t for t in rank if t not in done and deps[t] <= done), None)
            if nxt is None:
                raise ValueError("dependency cycle among " + ", ".join(sorted(set(rank) - done)))
            order.append(nxt)
            done.add(nxt)
        return order
