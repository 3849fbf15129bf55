"""Integration: merge order, commits built without a checkout, bisection to the culprit."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from crewchief.git import tree_with_patch
from crewchief.merge.integrate import Chain, Link, Pick, build_chain, find_culprit, merge_order
from crewchief.records import CheckResult, Plan, Task
from repo_helpers import git, make_repo, refs


def _task(tid: str, deps: tuple[str, ...] = (), owns: str = "f.py") -> Task:
    return Task(
        id=tid,
        title=f"do {tid}",
        instructions="x",
        owned_paths=(owns,),
        depends_on=deps,
        backend="recipe:command",
    )


@st.composite
def dags(draw: st.DrawFn) -> Plan:
    n = draw(st.integers(1, 9))
    tasks = []
    for i in range(n):
        deps = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
        tasks.append(_task(f"t{i}", tuple(f"t{d}" for d in sorted(deps))))
    order = draw(st.permutations(tasks))
    return Plan(goal="g", planner="p", tasks=tuple(order))


@given(dags())
def test_merge_order_puts_dependencies_first_then_plan_order(plan: Plan) -> None:
    order = merge_order(plan, {t.id for t in plan.tasks})
    assert sorted(order) == sorted(t.id for t in plan.tasks)
    pos = {t: i for i, t in enumerate(order)}
    for t in plan.tasks:
        assert all(pos[d] < pos[t.id] for d in t.depends_on)
    independent = [t.id for t in plan.tasks if not t.depends_on]
    assert [t for t in order if t in independent] == independent


@given(st.integers(1, 40), st.data())
def test_bisection_finds_the_first_red_commit(n: int, data: st.DataObject) -> None:
    first_red = data.draw(st.integers(0, n - 1))
    links = tuple(Link(f"t{i}", f"a{i}", f"c{i}") for i in range(n))
    chain = Chain("base", f"c{n - 1}", links, ())
    probes: list[str] = []

    def suite(commit: str) -> CheckResult:
        probes.append(commit)
        red = commit != "base" and int(commit[1:]) >= first_red
        return CheckResult(name="suite", kind="suite", passed=not red)

    assert find_culprit(chain, suite) == first_red
    assert len(probes) <= 2 + n.bit_length()


def test_red_base_blames_no_patch() -> None:
    chain = Chain("base", "c0", (Link("t0", "a0", "c0"),), ())
    assert find_culprit(chain, lambda c: CheckResult(name="s", kind="suite", passed=False)) is None


def _patch(repo: Path, path: str, text: str) -> bytes:
    import subprocess

    old = (repo / path).read_text()
    (repo / path).write_text(text)
    out = subprocess.run(["git", "diff", "--binary"], cwd=repo, capture_output=True).stdout
    (repo / path).write_text(old)
    return out


def test_chain_commits_carry_trailers_and_touch_no_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    base = git(repo, "rev-parse", "HEAD")
    before = refs(repo)
    picks = [
        Pick(
            _task("t1", owns="a.py"),
            "att1",
            base,
            _patch(repo, "a.py", "a = 2\n"),
            "recipe:command",
            "because",
        ),
        Pick(
            _task("t2", owns="b.py"),
            "att2",
            base,
            _patch(repo, "b.py", "b = 2\n"),
            "recipe:command",
        ),
    ]
    chain = build_chain(repo, "run1", base, picks)
    assert not chain.conflicts and [link.task for link in chain.links] == ["t1", "t2"]
    assert git(repo, "show", f"{chain.tip}:a.py") == "a = 2"
    assert git(repo, "show", f"{chain.tip}:b.py") == "b = 2"
    message = git(repo, "log", "-1", "--format=%B", chain.links[0][2])
    assert "because" in message and "Crewchief-Task: t1" in message
    assert "Crewchief-Attempt: att1" in message and "Crewchief-Worker: recipe:command" in message
    assert refs(repo) == before


def test_a_patch_that_no_longer_merges_is_reported_as_a_conflict(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "a = 1\n"})
    base = git(repo, "rev-parse", "HEAD")
    picks = [
        Pick(_task("t1", owns="a.py"), "x1", base, _patch(repo, "a.py", "a = 2\n"), "w"),
        Pick(_task("t2", owns="a.py"), "x2", base, _patch(repo, "a.py", "a = 3\n"), "w"),
    ]
    chain = build_chain(repo, "run1", base, picks)
    assert [link.task for link in chain.links] == ["t1"]
    assert [p.task.id for p in chain.conflicts] == ["t2"]


def test_the_gates_tree_is_committed_as_it_is_not_applied_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "a = 1\n"})
    base = git(repo, "rev-parse", "HEAD")
    patch = _patch(repo, "a.py", "a = 2\n")
    gated, _ = tree_with_patch(repo, base, patch)
    # a kept tree is taken as it is: one that differs from the patch shows it was not re-applied
    other, _ = tree_with_patch(repo, base, _patch(repo, "a.py", "a = 3\n"))
    kept = Pick(_task("t1", owns="a.py"), "x1", base, patch, "w", tree=other)
    chain = build_chain(repo, "run1", base, [kept])
    assert git(repo, "rev-parse", f"{chain.tip}^{{tree}}") == other != gated


def test_a_kept_tree_that_is_gone_is_rebuilt_from_the_patch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "a = 1\n"})
    base = git(repo, "rev-parse", "HEAD")
    patch = _patch(repo, "a.py", "a = 2\n")
    pick = Pick(_task("t1", owns="a.py"), "x1", base, patch, "w", tree="0" * 40)
    chain = build_chain(repo, "run1", base, [pick])
    assert git(repo, "show", f"{chain.tip}:a.py") == "a = 2"
