"""Benchmark the symbol index and the context packer on Django's source tree.

    .venv/bin/python bench/index.py [--runs N] [--samples N] [--budget TOKENS] [--verbose]

Downloads Django's sdist once into bench/.cache (``pip download --no-deps --no-binary :all:``:
the newest release this Python can install), unpacks it into a temporary git repository, and
prints one table:

- universal-ctags (definitions only) over the same files crewchief parses: the baseline;
- crewchief cold index (definitions and references, empty database), warm start (a new
  SymbolIndex, nothing changed) and the update after a 3-file patch (full working-tree scan, and
  with the patched paths given), in process; runs are interleaved with the ctags runs and each
  ratio is the median of per-run ratios, so that load from other processes skews less;
- for --samples functions sampled from django/ (fixed seed): the packed context's tokens against
  the whole-file baseline (the function's file plus every file defining one of its callees), and
  the share of its resolvable callees whose signature made it into the context.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django_repo import fresh_repo

from crewchief.intel.index import SymbolIndex
from crewchief.intel.packer import pack_context, resolve_callee
from crewchief.intel.records import Definition
from crewchief.intel.snapshot import Snapshot
from crewchief.intel.tokens import default_counter

CTAGS = "/usr/bin/ctags"
PATCHED = ("django/utils/text.py", "django/utils/html.py", "django/db/models/query.py")
TARGETS = {"cold": 4.0, "warm": 0.3, "update": 0.1}
SEED = 20240601
MIN_BODY_LINES = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--budget", type=int, default=4000)
    parser.add_argument("--verbose", action="store_true", help="list the sampled functions")
    args = parser.parse_args()
    if shutil.which(CTAGS) is None:
        sys.exit(f"{CTAGS} not found: install universal-ctags (apt-get install universal-ctags)")
    with tempfile.TemporaryDirectory(prefix="crewchief-bench-") as tmp:
        repo = fresh_repo(Path(tmp))
        rows, files = index_timings(repo, args.runs)
        with SymbolIndex(repo) as index:
            index.update()
            snapshot = index.snapshot()
        packing = packing_figures(snapshot, args.samples, args.budget)
    print_report(repo.name, files, rows, packing, args)


def index_timings(repo: Path, runs: int) -> tuple[list[Row], list[str]]:
    """One row per measurement, and the files crewchief parsed (ctags gets the same list).

    Runs are interleaved (ctags, cold, warm, update, ...; then again), so that load from other
    processes on the machine falls on every measurement alike; ratios are per run.
    """
    _cold(repo)
    with SymbolIndex(repo) as index:
        snapshot = index.snapshot()
    parsed = [p for p in snapshot.paths if snapshot.status.get(p) != "skipped"]
    counter = iter(range(1_000_000))
    actions: dict[str, Callable[[], float | None]] = {
        "ctags (definitions only)": lambda: _ctags(repo, parsed),
        "crewchief cold (defs + refs)": lambda: _cold(repo),
        "crewchief warm start, nothing changed": lambda: _warm(repo),
        "crewchief update after 3-file patch": lambda: _patched_update(
            repo, next(counter), scoped=False
        ),
        "  same, patched paths given": lambda: _patched_update(repo, next(counter), scoped=True),
    }
    wall: dict[str, list[float]] = {label: [] for label in actions}
    cpu: dict[str, list[float]] = {label: [] for label in actions}
    for _ in range(runs):
        for label, action in actions.items():
            seconds, cpu_seconds = measure(action)
            wall[label].append(seconds)
            cpu[label].append(cpu_seconds)
    targets = ["", "cold", "warm", "update", "update"]
    rows = [Row(name, wall[name], cpu[name], t) for name, t in zip(actions, targets, strict=True)]
    return rows, parsed


@dataclass(frozen=True)
class Row:
    label: str
    seconds: list[float]
    cpu: list[float]
    target: str


def measure(action: Callable[[], float | None]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (children included). An ``action`` that times itself (to
    leave its setup out) returns its seconds; its CPU time then includes the setup."""
    before = _cpu()
    started = time.perf_counter()
    measured = action()
    wall = measured if measured is not None else time.perf_counter() - started
    return wall, _cpu() - before


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _cold(repo: Path) -> float:
    shutil.rmtree(repo / ".crewchief", ignore_errors=True)
    started = time.perf_counter()
    with SymbolIndex(repo) as index:
        index.update()
    return time.perf_counter() - started


def _ctags(repo: Path, files: list[str]) -> None:
    subprocess.run(
        [CTAGS, "-L", "-", "-f", str(repo / ".crewchief" / "tags")],
        cwd=repo,
        input="\n".join(files).encode(),
        check=True,
        capture_output=True,
    )


def _warm(repo: Path) -> float:
    started = time.perf_counter()
    with SymbolIndex(repo) as index:
        assert index.update().parsed == 0
    return time.perf_counter() - started


def _patched_update(repo: Path, run: int, *, scoped: bool) -> float:
    """Edit three files (a new parameter, a new function), then time one update."""
    for path in PATCHED:
        file = repo / path
        text = file.read_text()
        added = f"def _bench_{run}(value, extra=None):\n    return value\n\n\ndef "
        text = text.replace("def ", added, 1)
        file.write_text(text)
    started = time.perf_counter()
    with SymbolIndex(repo) as index:
        stats = index.update(paths=list(PATCHED) if scoped else None)
    elapsed = time.perf_counter() - started
    assert stats.parsed == len(PATCHED), stats
    subprocess.run(["git", "checkout", "-q", "--", *PATCHED], cwd=repo, check=True)
    with SymbolIndex(repo) as index:
        index.update()
    return elapsed


def packing_figures(
    snapshot: Snapshot, samples: int, budget: int
) -> list[tuple[str, int, int, float]]:
    """Per sampled function: (key, packed tokens, baseline tokens, share of callees present)."""
    counter = default_counter()
    figures = []
    for target in sample_functions(snapshot, samples):
        resolved = resolvable_callees(snapshot, target)
        context = pack_context(snapshot, [target.path], [target.qualname], budget=budget)
        present = {item.key for item in context.included}
        found = sum(1 for defs in resolved.values() if any(d.key in present for d in defs))
        files = {target.path} | {d.path for defs in resolved.values() for d in defs}
        baseline = sum(counter.count(snapshot.source(p) or "") for p in files)
        figures.append((target.key, context.tokens, baseline, found / len(resolved)))
    return figures


def sample_functions(snapshot: Snapshot, count: int) -> list[Definition]:
    """Functions and methods of django/ (not tests) with a body and at least one callee."""
    pool = [
        d
        for d in snapshot.definitions()
        if d.path.startswith("django/")
        and d.language == "python"
        and d.kind in ("function", "method")
        and d.line_end - d.line_start >= MIN_BODY_LINES
    ]
    random.Random(SEED).shuffle(pool)
    chosen = [d for d in pool if resolvable_callees(snapshot, d)]
    return chosen[:count]


def resolvable_callees(snapshot: Snapshot, target: Definition) -> dict[str, list[Definition]]:
    """Names the function calls that resolve to definitions (as the packer resolves them)."""
    resolved: dict[str, list[Definition]] = {}
    for use in snapshot.calls_from(target):
        if use.kind == "call" and use.name not in resolved:
            defs = [d for d in resolve_callee(snapshot, use) if d.key != target.key]
            if defs:
                resolved[use.name] = defs
    return resolved


def print_report(
    name: str,
    files: list[str],
    rows: list[Row],
    packing: list[tuple[str, int, int, float]],
    args: argparse.Namespace,
) -> None:
    python = sum(1 for f in files if f.endswith(".py"))
    print(
        f"{name}: {len(files)} source files indexed ({python} Python, "
        f"{len(files) - python} other); {args.runs} interleaved runs, in process"
    )
    print(f"{'':40} {'median s':>9} {'min s':>7} {'cpu s':>7} {'× ctags':>8} {'target':>8}  ok")
    ctags = rows[0].seconds
    for row in rows:
        ratio = statistics.median(s / c for s, c in zip(row.seconds, ctags, strict=True))
        goal = f"≤ {TARGETS[row.target]:g}×" if row.target else ""
        ok = ("yes" if ratio <= TARGETS[row.target] else "NO") if row.target else ""
        # The update rows' CPU time would include their setup (re-indexing): not shown.
        cpu_text = f"{statistics.median(row.cpu):.2f}" if row.target in ("", "cold") else "-"
        print(
            f"{row.label:40} {statistics.median(row.seconds):9.3f} {min(row.seconds):7.3f} "
            f"{cpu_text:>7} {ratio:8.2f} {goal:>8}  {ok}"
        )
    print(
        "(× ctags: median over runs of the run's time / that run's ctags time; cpu: user+sys "
        "of this process and its children)"
    )
    share = [p / b for _, p, b, _ in packing]
    present = [f for _, _, _, f in packing]
    print(
        f"\ncontext packing, {len(packing)} sampled functions, budget {args.budget} tokens, "
        f"counted by {default_counter().name}"
    )
    if args.verbose:
        for key, packed, baseline, found in packing:
            print(
                f"  {key:70.70} {packed:6} / {baseline:6} = {packed / baseline:6.1%}  "
                f"callees {found:.0%}"
            )
    print(
        f"  median packed tokens {statistics.median([p for _, p, _, _ in packing]):.0f}, "
        f"median whole-file baseline {statistics.median([b for _, _, b, _ in packing]):.0f}"
    )
    print(
        f"  median packed / baseline   {statistics.median(share):7.1%}   target ≤ 10%  "
        f"{'yes' if statistics.median(share) <= 0.10 else 'NO'}"
    )
    print(
        f"  median callees present     {statistics.median(present):7.1%}   target ≥ 90%  "
        f"{'yes' if statistics.median(present) >= 0.90 else 'NO'}"
        f"   (mean {statistics.mean(present):.1%}, min {min(present):.0%})"
    )
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(f"\npeak resident memory of any one process: {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main()
