"""Planning: a ChangeRequest becomes a Plan through a Planner, and every plan is checked
mechanically before anything runs: ids unique, dependencies known and acyclic, owned paths
declared and none inside ``.git/`` or ``.crewchief/``. Tasks that may run in parallel yet share
paths are flagged as predicted conflicts."""

from __future__ import annotations

from itertools import combinations

from crewchief.gate.policy import reserved_dir
from crewchief.records import Plan, Task
from crewchief.run.taskgraph import TaskGraph


def validate(plan: Plan, max_tasks: int) -> list[str]:
    """Every reason ``plan`` cannot run as written; empty when it can."""
    problems: list[str] = []
    ids = [t.id for t in plan.tasks]
    if not plan.tasks:
        problems.append("the plan has no tasks")
    if len(plan.tasks) > max_tasks:
        problems.append(f"the plan has {len(plan.tasks)} tasks; max_tasks is {max_tasks}")
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        problems.append("duplicate task ids: " + ", ".join(dupes))
    for t in plan.tasks:
        unknown = [d for d in t.depends_on if d not in ids]
        if unknown:
            problems.append(f"task {t.id} depends on unknown task(s) {', '.join(unknown)}")
        if not t.owned_paths:
            problems.append(f"task {t.id} owns no paths")
        for path in t.owned_paths:
            if (reserved := reserved_dir(path)) is not None:
                problems.append(f"task {t.id} owns {path!r}, inside {reserved}/ (never a task's)")
    problems += [f"dependency cycle: {c}" for c in TaskGraph.of(plan).cycles()]
    from crewchief.merge.groups import problems as group_problems  # groups builds on this module

    return problems + group_problems(plan)


def predicted_conflicts(plan: Plan) -> list[str]:
    """Pairs of tasks that may run at the same time (neither depends on the other) yet share
    owned paths. Not an error: integration re-runs the later one on the new base if its patch
    no longer merges; a planner may prefer to serialize them."""
    try:
        graph = TaskGraph.of(plan)
        anc = {t.id: graph.ancestors(t.id) for t in plan.tasks}
    except KeyError:
        return []  # unknown dependencies are reported by validate
    problems = []
    for a, b in combinations(plan.tasks, 2):
        if a.id in anc[b.id] or b.id in anc[a.id]:
            continue
        shared = sorted(p for p in a.owned_paths if _overlap(p, b))
        if shared:
            problems.append(
                f"tasks {a.id} and {b.id} may run in parallel but both own " + ", ".join(shared)
            )
    return problems


def _overlap(path: str, other: Task) -> bool:
    return other.owns(path) or any(
        o.startswith(path) for o in other.owned_paths if path.endswith("/")
    )
