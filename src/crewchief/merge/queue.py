"""The merge queue: verified work is integrated while the workers still work.

A unit (a task, or a whole landing group) whose tasks are all verified is merged at once onto
the queue's tip with merge-tree (no checkout): a conflict is known right away and handed back
for a re-run on that tip. The suite runs on the batch of whatever has queued up since the last
green tip, in background threads: one batch at a time by default, or up to ``parallel``, each
tested on the tip of the one before it before that one is known green. A red batch is settled by
delta debugging (``crewchief.merge.culprit``) over its units, then over the tasks of a red group;
the batches after one that lost anything are void and go back to the waiting line. Arrivals wait
behind the batches under test, built on the last one's tip, and are rebuilt only if one of them
was not green.

The driver thread owns the ledger; the suite threads write only suite checks, through their own
ledger connection. Everything the queue knows can be rebuilt from the ledger: after a crash it
starts again from the landed point with every verified task.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import JsonValue

from crewchief import git
from crewchief.gate.patchfile import parse, path_text
from crewchief.ledger.store import Ledger
from crewchief.merge.culprit import ddmin, failures, reproduces
from crewchief.merge.groups import group_of
from crewchief.merge.integrate import Chain, Link, Pick, SuiteFn, build_chain
from crewchief.records import CheckResult, Plan

#: Whether a red batch's blamed tasks wait for the end of the run: (their ids, the batch).
HoldFn = Callable[[frozenset[str], Chain], bool]
#: How much of a failing suite's output is kept with a blamed task.
OUTPUT_KEPT = 4000


class QueueStopped(Exception):
    """The run was interrupted while a batch was under test: its verdict is void."""


@dataclass(frozen=True)
class Blame:
    """A task that may not land, and why: it broke the suite, or its group mate did."""

    task_id: str
    reason: str
    output: str


@dataclass(frozen=True)
class Settled:
    """A batch after the suite judged it: the green links (on the batch's start), the tasks
    blamed, picks that no longer merge once the culprits left, and whether the start itself
    was red (then nothing is blamed and ``chain`` is empty)."""

    chain: Chain
    blamed: tuple[Blame, ...] = ()
    conflicts: tuple[Pick, ...] = ()
    start_red: bool = False


def build_units(
    repo: Path, run_id: str, start: str, units: Sequence[Sequence[Pick]]
) -> tuple[Chain, list[list[Pick]], list[Pick]]:
    """``units`` committed in order on ``start``, each whole or not at all: (chain, the units
    that went in, the picks of the units that did not — each unit's conflicting picks)."""
    tip = start
    links: list[Link] = []
    kept: list[list[Pick]] = []
    lost: list[Pick] = []
    for unit in units:
        built = build_chain(repo, run_id, tip, unit)
        if built.conflicts:
            lost += built.conflicts
            continue
        links += built.links
        kept.append(list(unit))
        tip = built.tip
    return Chain(start, tip, tuple(links), ()), kept, lost


def settle(
    repo: Path,
    run_id: str,
    plan: Plan,
    start: str,
    units: Sequence[Sequence[Pick]],
    suite: SuiteFn,
    first: Chain | None = None,
) -> Settled:
    """Test ``units`` on ``start`` (``first``: that build, made already) until green: each red
    build loses its culprits, found by leaving units out and then, inside a red group, tasks.
    ``start`` is assumed green unless a red build shows otherwise; then it is tested too."""
    blamed: list[Blame] = []
    chain, kept, lost = (
        (first, [list(u) for u in units], []) if first else build_units(repo, run_id, start, units)
    )
    while chain.links:
        red = suite(chain.tip)
        if red.passed:
            break
        if not suite(start).passed:
            return Settled(Chain(start, start, (), ()), tuple(blamed), tuple(lost), True)
        blamed += _culprits(repo, run_id, plan, start, kept, suite, failures(red), red.output)
        gone = {b.task_id for b in blamed}
        chain, kept, more = build_units(
            repo, run_id, start, [u for u in kept if not gone & {p.task.id for p in u}]
        )
        lost += more
    return Settled(chain, tuple(blamed), tuple(lost))


def _culprits(
    repo: Path,
    run_id: str,
    plan: Plan,
    start: str,
    units: list[list[Pick]],
    suite: SuiteFn,
    original: frozenset[str],
    output: str,
) -> list[Blame]:
    """The units that reproduce ``original``, then the tasks inside each of them that do."""

    def fails(parts: Sequence[Sequence[Pick]]) -> bool:
        chain, _, lost = build_units(repo, run_id, start, parts)
        return not lost and bool(chain.links) and reproduces(original, suite(chain.tip))

    bad_units = ddmin(units, fails)
    blamed: list[Blame] = []
    for unit in bad_units:
        culprits = _inside(unit, [u for u in bad_units if u is not unit], fails)
        names = ", ".join(p.task.id for p in culprits)
        group = group_of(plan).get(unit[0].task.id)
        for p in unit:
            if p in culprits:
                blamed.append(Blame(p.task.id, "broke the full suite", output[-OUTPUT_KEPT:]))
            else:
                reason = f"its landing group {group} cannot land: {names} broke the full suite"
                blamed.append(Blame(p.task.id, reason, output[-OUTPUT_KEPT:]))
    return blamed


def _inside(
    unit: list[Pick], others: list[list[Pick]], fails: Callable[[Sequence[Sequence[Pick]]], bool]
) -> list[Pick]:
    """The tasks of a red ``unit`` that reproduce the failure (with the other red units kept)."""
    if len(unit) == 1:
        return unit
    return ddmin(unit, lambda picks: fails([*others, list(picks)]))


def conflict_note(repo: Path, pick: Pick, chain: Chain) -> str:
    """What a worker re-running a conflicted task is told: its earlier diff and the integrated
    commits that touched the same files."""
    mine = {path_text(p) for f in parse(pick.patch) for p in f.paths()}
    touching = []
    for task_id, _, commit in chain.links:
        names = ["diff-tree", "--no-commit-id", "--name-only", "-r", commit]
        if set(git.out(names, repo).split()) & mine:
            subject = git.out(["log", "-1", "--format=%s", commit], repo)
            touching.append(f"{commit[:12]} ({task_id}: {subject})")
    earlier = pick.patch.decode(errors="replace")
    return (
        "Your earlier patch for this task no longer merges on the integration tip "
        f"{chain.tip[:12]}; "
        f"it conflicts with {', '.join(touching) or 'the integrated work'}. Redo the task on the "
        f"current code. Your earlier diff, for reference:\n```diff\n{earlier}\n```"
    )


@dataclass
class _Batch:
    units: list[list[Pick]]
    chain: Chain
    future: Future[Settled]
    void: threading.Event = field(default_factory=threading.Event)  # no more suite runs


@dataclass
class MergeQueue:
    """The queue of one run, driven from the orchestrator's thread (see the module doc).

    ``suite`` is called in the suite threads only (``parallel`` batches at a time, default one).
    """

    repo: Path
    ledger: Ledger
    run_id: str
    plan: Plan
    start: str
    suite: SuiteFn
    green: Chain = field(init=False)
    parallel: int = 1
    waiting: list[tuple[list[Pick], Chain]] = field(default_factory=list)
    batches: list[_Batch] = field(default_factory=list)  # under test, oldest first
    held: list[list[Pick]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # commits taken out of the queue's line
    start_red: bool = False
    _pool: ThreadPoolExecutor = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.green = Chain(self.start, self.start, (), ())
        self._pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="crewchief-suite")

    @property
    def tip(self) -> str:
        """Where the next arrival is merged: after the waiting units, the batches, the green."""
        if self.waiting:
            return self.waiting[-1][1].tip
        return self.batches[-1].chain.tip if self.batches else self.green.tip

    def chain(self) -> Chain:
        """Everything in the queue as one chain: green, then under test, then waiting."""
        links = self.green.links + tuple(link for b in self.batches for link in b.chain.links)
        links += tuple(link for _, c in self.waiting for link in c.links)
        return Chain(self.green.start, self.tip, links, ())

    def queued(self) -> set[str]:
        """Task ids in the queue: green, under test or waiting."""
        units = [link.task for link in self.green.links]
        units += [p.task.id for b in self.batches for u in b.units for p in u]
        units += [p.task.id for u, _ in self.waiting for p in u]
        units += [p.task.id for u in self.held for p in u]
        return set(units)

    def offer(self, unit: list[Pick]) -> tuple[Pick, ...]:
        """Merge ``unit`` onto the tip; its conflicting picks (then nothing was queued). A pick
        made on a tip that held a commit since taken out counts as conflicting: merged, it would
        bring that commit back."""
        stale = tuple(p for p in unit if self._on_dropped(p.base))
        if stale:
            return stale
        built = build_chain(self.repo, self.run_id, self.tip, unit)
        if built.conflicts:
            return built.conflicts
        self.waiting.append((unit, built))
        self.ledger.event(
            self.run_id, "queued", {"tasks": [p.task.id for p in unit], "tip": built.tip}
        )
        return ()

    def pump(self) -> Future[Settled] | None:
        """Start the suite on everything waiting, if fewer than ``parallel`` batches are under
        test (on the last one's tip). The oldest batch's future: the one to take in next."""
        if len(self.batches) < self.parallel and self.waiting:
            units = [u for u, _ in self.waiting]
            links = tuple(link for _, c in self.waiting for link in c.links)
            start = self.batches[-1].chain.tip if self.batches else self.green.tip
            chain = Chain(start, self.waiting[-1][1].tip, links, ())
            self.waiting = []
            void = threading.Event()
            run = lambda commit: self._run(commit, void)  # noqa: E731
            future = self._pool.submit(
                settle, self.repo, self.run_id, self.plan, chain.start, units, run, chain
            )
            self.batches.append(_Batch(units, chain, future, void))
        return self.batches[0].future if self.batches else None

    def take_oldest(self) -> _Batch | None:
        """The oldest batch out of the queue (its suite was flaky: the run is held), the
        batches after it voided."""
        if not self.batches:
            return None
        oldest, later = self.batches[0], self.batches[1:]
        self.batches = []
        for b in later:
            b.void.set()
        return oldest

    def collect(self, hold: HoldFn) -> tuple[Settled, tuple[Pick, ...]]:
        """Take the finished batch in: the green tip moves on; arrivals are rebuilt on it if
        the batch lost anything. When ``hold(blamed task ids, the batch tested)`` says so (work
        is still to come, or the culprit changed a signature another task's code refers to:
        that task may be what needs to change, re-run on the culprit) the blamed units are held
        for the end of the run instead of being blamed now. Returns the batch's outcome and
        every pick that no longer merges (the batch's and the rebuilt arrivals')."""
        assert self.batches and self.batches[0].future.done()
        oldest, later = self.batches[0], self.batches[1:]
        settled, tested, units = oldest.future.result(), oldest.chain, oldest.units
        self.batches = []
        kept = {t for t, _, _ in settled.chain.links}
        self.dropped += [c for t, _, c in tested.links if t not in kept]
        blamed = frozenset(b.task_id for b in settled.blamed)
        if blamed and hold(blamed, tested):
            gone = {b.task_id for b in settled.blamed}
            held = [u for u in units if gone & {p.task.id for p in u}]
            self.held += held
            tasks: list[JsonValue] = [p.task.id for u in held for p in u]
            self.ledger.event(self.run_id, "queued", {"held": tasks, "until": "end of run"})
            settled = replace(settled, blamed=())
        self.start_red = self.start_red or settled.start_red
        self.green = Chain(
            self.green.start, settled.chain.tip, self.green.links + settled.chain.links, ()
        )
        if settled.chain.tip == tested.tip:  # all green: the later batches stand
            self.batches = later
            return settled, settled.conflicts
        for b in later:  # built on a tip that is not green: void, their units wait again
            b.void.set()
        again = [u for b in later for u in b.units] + [u for u, _ in self.waiting]
        self.waiting = []
        lost = [p for unit in again for p in self.offer(unit)]
        return settled, settled.conflicts + tuple(lost)

    def _on_dropped(self, base: str) -> bool:
        for commit in self.dropped:
            proc = git.run(["merge-base", "--is-ancestor", commit, base], self.repo, check=False)
            if proc.returncode == 0:
                return True
        return False

    def final(self) -> Chain:
        """The green chain with the held units on top (their conflicts in ``conflicts``): what
        the run integrates once all its work is in."""
        assert not self.batches and not self.waiting
        on_top, _, lost = build_units(self.repo, self.run_id, self.green.tip, self.held)
        links = self.green.links + on_top.links
        return Chain(self.green.start, on_top.tip, links, tuple(lost))

    def _run(self, commit: str, void: threading.Event) -> CheckResult:
        """The suite on ``commit``, unless the run was interrupted or the batch voided (then
        the batch stops)."""
        if self._stop.is_set() or void.is_set():
            raise QueueStopped
        result = self.suite(commit)
        if self._stop.is_set() or void.is_set():
            raise QueueStopped
        return result

    def stop(self) -> None:
        """No further suite run for the batch under test (Ctrl-C): it is taken again on resume."""
        self._stop.set()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def landed_commit(ledger: Ledger, run_id: str) -> str:
    """The commit the target branch was last moved to by this run, else the run's base."""
    landed = [e for e in ledger.event_records(run_id) if e.kind == "landed"]
    if landed:
        return str(landed[-1].data["to"])
    return str(ledger.run(run_id).base_commit)


def suite_known(ledger: Ledger, run_id: str, commit: str) -> bool | None:
    """The suite's recorded verdict on ``commit``, None if it never ran there."""
    verdicts = [
        bool(r.passed) for r in ledger.checks(run_id) if r.kind == "suite" and r.commit_id == commit
    ]
    return verdicts[-1] if verdicts else None
