"""Landing groups: tasks that only make sense together are integrated, judged by the suite and
landed as one unit. A task in no group is a unit of its own.

Units are what the merge queue orders and what culprit finding leaves out first; a group's own
tasks are only taken apart to name the culprit inside a red group.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from crewchief.records import Plan
from crewchief.run.taskgraph import TaskGraph

Unit = tuple[str, ...]


def group_of(plan: Plan) -> dict[str, str]:
    """Task id → name of its landing group, for the tasks that are in one."""
    return {t: g.name for g in plan.landing_groups for t in g.tasks}


def members(plan: Plan, task_id: str) -> Unit:
    """The unit ``task_id`` lands with: its group's tasks in plan order, or itself alone."""
    for g in plan.landing_groups:
        if task_id in g.tasks:
            return tuple(t.id for t in plan.tasks if t.id in g.tasks)
    return (task_id,)


def problems(plan: Plan) -> list[str]:
    """Every reason the plan's landing groups cannot be honoured; empty when they can."""
    found: list[str] = []
    ids = {t.id for t in plan.tasks}
    names = [g.name for g in plan.landing_groups]
    dupes = sorted({n for n in names if names.count(n) > 1})
    found += [f"duplicate landing group {n!r}" for n in dupes]
    seen: dict[str, str] = {}
    for g in plan.landing_groups:
        if not g.name.strip() or not g.tasks:
            found.append(f"landing group {g.name!r} needs a name and at least one task")
        for t in g.tasks:
            if t not in ids:
                found.append(f"landing group {g.name!r} names unknown task {t}")
            elif t in seen:
                found.append(f"task {t} is in landing groups {seen[t]!r} and {g.name!r}")
            seen.setdefault(t, g.name)
    return found or _split_by_dependencies(plan) or _groups_in_a_cycle(plan)


def _split_by_dependencies(plan: Plan) -> list[str]:
    """A group cannot land as one if a task outside it depends on one member and is depended on
    by another: that task would have to land in the middle of the group."""
    found: list[str] = []
    try:
        graph = TaskGraph.of(plan)
        anc = {t.id: graph.ancestors(t.id) for t in plan.tasks}
    except KeyError:
        return []  # unknown dependencies are reported by plan.validate
    for g in plan.landing_groups:
        inside = set(g.tasks)
        below = set().union(*(anc[m] for m in g.tasks)) - inside
        between = sorted(x for x in below if anc[x] & inside)
        if between:
            found.append(
                f"landing group {g.name!r} cannot land as one: {', '.join(between)} depends on "
                "a member and another member depends on it"
            )
    return found


def _groups_in_a_cycle(plan: Plan) -> list[str]:
    """Landing groups that depend on each other (``a``'s member on ``b``'s, and ``b``'s on
    ``a``'s, directly or through other groups): none of them can land first."""
    group = group_of(plan)
    unit = {t.id: f"group {group[t.id]}" if t.id in group else f"task {t.id}" for t in plan.tasks}
    after: dict[str, set[str]] = {}
    for t in plan.tasks:
        for d in t.depends_on:
            if d in unit and unit[d] != unit[t.id]:
                after.setdefault(unit[t.id], set()).add(unit[d])
    found: list[str] = []
    for g in plan.landing_groups:
        name = f"group {g.name}"
        stack, seen = list(after.get(name, ())), set()
        while stack:
            u = stack.pop()
            if u == name:
                found.append(
                    f"landing group {g.name!r} cannot land: it depends on work that depends on "
                    "it (through other landing groups)"
                )
                break
            if u not in seen:
                seen.add(u)
                stack += after.get(u, ())
    return found


def units(plan: Plan, order: Sequence[str]) -> list[Unit]:
    """``order`` (task ids, dependencies first) cut into landing units, each group gathered at
    the place of its first member whose group is complete in ``order``; members absent from
    ``order`` make their group absent. Dependencies between units stay satisfied."""
    present = set(order)
    out: list[Unit] = []
    placed: set[str] = set()
    for task_id in order:
        if task_id in placed:
            continue
        unit = members(plan, task_id)
        if not present.issuperset(unit):
            continue
        out.append(unit)
        placed.update(unit)
    return _respect_dependencies(plan, out)


def _respect_dependencies(plan: Plan, out: list[Unit]) -> list[Unit]:
    """A stable topological order of units: a unit comes after every unit holding a task one of
    its members depends on."""
    where = {t: i for i, u in enumerate(out) for t in u}
    needs = {
        i: {where[d] for t in u for d in plan.task(t).depends_on if d in where} - {i}
        for i, u in enumerate(out)
    }
    done: list[int] = []
    while len(done) < len(out):
        nxt = min(i for i in needs if i not in done and needs[i] <= set(done))
        done.append(nxt)
    return [out[i] for i in done]


def complete(plan: Plan, task_id: str, ok: Collection[str]) -> bool:
    """Whether every task of ``task_id``'s unit is in ``ok``."""
    return set(members(plan, task_id)) <= set(ok)


def landable(plan: Plan, task_ids: Collection[str]) -> set[str]:
    """The tasks of ``task_ids`` whose whole unit is in ``task_ids``: a group lands whole or not
    at all."""
    return {t for t in task_ids if complete(plan, t, task_ids)}
