"""Integration: accepted patches become one commit each on ``refs/crewchief/runs/<run>``, in merge
order, built with merge-tree/commit-tree so that no checkout is ever touched; then the full suite,
and a red result is bisected to the patch that broke it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from crewchief import git
from crewchief.ledger.redact import redact
from crewchief.records import CheckResult, Plan, Task
from crewchief.run.taskgraph import TaskGraph


@dataclass(frozen=True)
class Pick:
    """One accepted attempt, ready to be committed on top of an integration tip."""

    task: Task
    attempt_id: str
    base: str
    patch: bytes
    worker: str
    rationale: str = ""
    model: str | None = None
    tree: str | None = None  # ``patch`` applied to ``base``, as the gate left it (if kept)


class Link(NamedTuple):
    """One commit of an integration build: the task and attempt it integrates."""

    task: str
    attempt: str
    commit: str


@dataclass(frozen=True)
class Chain:
    """An integration build: ``links`` in order, ending at ``tip``; ``conflicts`` = picks that
    no longer merge on the tip they met."""

    start: str
    tip: str
    links: tuple[Link, ...]
    conflicts: tuple[Pick, ...]


def run_ref(run_id: str) -> str:
    return f"refs/crewchief/runs/{run_id}"


def merge_order(plan: Plan, task_ids: set[str]) -> list[str]:
    """``task_ids`` with dependencies first, otherwise in plan order (a stable topological sort).

    Dependencies outside ``task_ids`` are ignored: they are either merged already or not merging.
    """
    return TaskGraph.of(plan).ordered([t.id for t in plan.tasks if t.id in task_ids])


def commit_message(run_id: str, pick: Pick) -> str:
    """Subject, rationale and the provenance trailers that point back into the ledger, with
    every secret redacted (title and rationale come from workers and plan files)."""
    return redact(_message(run_id, pick))


def _message(run_id: str, pick: Pick) -> str:
    body = pick.rationale.strip()
    lines = [f"{pick.task.title}", ""]
    if body:
        lines += [body, ""]
    lines += [
        f"Crewchief-Run: {run_id}",
        f"Crewchief-Task: {pick.task.id}",
        f"Crewchief-Attempt: {pick.attempt_id}",
        f"Crewchief-Worker: {pick.worker}",
        *([f"Crewchief-Model: {pick.model}"] if pick.model else []),
        f"Crewchief-Instruction: sha256:{pick.task.instruction_digest()}",
    ]
    return "\n".join(lines) + "\n"


def commit_pick(repo: Path, run_id: str, tip: str, pick: Pick) -> str | None:
    """A new commit on ``tip`` carrying ``pick``'s change, or None if it conflicts there."""
    tree = pick.tree if pick.tree and git.has_tree(repo, pick.tree) else None
    if tree is None:  # not kept (an older ledger, a masked patch) or pruned since: apply it
        tree, _ = git.tree_with_patch(repo, pick.base, pick.patch)
    if tree is None:
        return None
    if pick.base != tip:
        side = git.out(["commit-tree", tree, "-p", pick.base, "-m", "crewchief side"], repo)
        proc = git.run(
            ["merge-tree", "--write-tree", "--no-messages", tip, side], repo, check=False
        )
        if proc.returncode != 0:
            return None
        tree = proc.stdout.decode().split("\n", 1)[0].strip()
    return git.out(
        ["commit-tree", tree, "-p", tip, "-F", "-"],
        repo,
        input=commit_message(run_id, pick).encode(),
    )


def build_chain(repo: Path, run_id: str, start: str, picks: Sequence[Pick]) -> Chain:
    """Commit ``picks`` in order on ``start``; conflicting ones are left out and reported."""
    tip = start
    links: list[Link] = []
    conflicts: list[Pick] = []
    for pick in picks:
        commit = commit_pick(repo, run_id, tip, pick)
        if commit is None:
            conflicts.append(pick)
            continue
        links.append(Link(pick.task.id, pick.attempt_id, commit))
        tip = commit
    return Chain(start, tip, tuple(links), tuple(conflicts))


def publish(repo: Path, run_id: str, tip: str) -> None:
    """Point the run's integration ref at ``tip`` (an internal ref; never a user branch)."""
    git.run(["update-ref", "-m", "crewchief integrate", run_ref(run_id), tip], repo)


SuiteFn = Callable[[str], CheckResult]


def find_culprit(chain: Chain, suite: SuiteFn) -> int | None:
    """Index in ``chain.links`` of the first commit whose suite fails, by bisection.

    Assumes ``chain.start`` is green and the tip red; returns None when the start itself is red
    (nothing to blame on the patches). ``suite`` should cache by commit: each probe is a suite run.
    """
    if not suite(chain.start).passed:
        return None
    lo, hi = 0, len(chain.links) - 1  # links[hi] is known red (the tip)
    while lo < hi:
        mid = (lo + hi) // 2
        if suite(chain.links[mid].commit).passed:
            lo = mid + 1
        else:
            hi = mid
    return lo
