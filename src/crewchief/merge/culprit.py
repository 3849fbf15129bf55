"""Culprit finding by delta debugging: which changes of a red build cause its failure.

Prefix bisection blames the first red prefix, and a change that is only green as a whole (one
rename split into a task per module) has red prefixes by nature. Here candidates are left *out*
(and then kept alone) as in Zeller's ddmin, and a configuration only counts as failing when it
reproduces the original failures: the same failing tests with the same messages. A
configuration that is red for another reason (a rename left half done) is not the failure being
looked for, so the half that completes a rename is never blamed for its own absence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from crewchief.records import CheckResult

T = TypeVar("T")

#: pytest's short summary lines (``FAILED tests/t.py::test_x - AssertionError: …``), also the
#: form of several other runners' summaries; the whole line is the failure's identity.
_SUMMARY = re.compile(r"^(?:FAILED|ERROR)\s+\S.*$", re.MULTILINE)
#: The identity of a red run whose output names no test: any red run reproduces it.
RED = "<the suite failed>"


def failures(check: CheckResult) -> frozenset[str]:
    """The failures a red suite run reports, each as one line; {RED} when none can be read."""
    if check.passed:
        return frozenset()
    lines = frozenset(m.group(0).strip() for m in _SUMMARY.finditer(check.output))
    return lines or frozenset({RED})


def reproduces(original: frozenset[str], check: CheckResult) -> bool:
    """Whether ``check`` is red with every failure of ``original`` among its own."""
    if check.passed:
        return False
    found = failures(check)
    return original <= found or original == {RED}


def ddmin(items: Sequence[T], fails: Callable[[Sequence[T]], bool]) -> list[T]:
    """A 1-minimal sub-sequence of ``items`` on which ``fails`` holds (order kept).

    Precondition: ``fails(items)``. Each candidate split is first left out (its complement
    tested), then tested alone; removing any single element of the result makes ``fails`` false
    (1-minimality). ``fails`` is called at most once per distinct sub-sequence.
    """
    seen: dict[tuple[int, ...], bool] = {}

    def test(keep: list[int]) -> bool:
        key = tuple(keep)
        if key not in seen:
            seen[key] = fails([items[i] for i in keep])
        return seen[key]

    current = list(range(len(items)))
    n = 2
    while len(current) >= 2:
        chunks = _split(current, n)
        reduced = _reduce(current, chunks, test)
        if reduced is not None:
            current, n = reduced[0], max(reduced[1], 2)
        elif n >= len(current):
            break
        else:
            n = min(len(current), 2 * n)
    return [items[i] for i in current]


def _reduce(
    current: list[int], chunks: list[list[int]], test: Callable[[list[int]], bool]
) -> tuple[list[int], int] | None:
    """The next configuration and granularity: a failing complement first, then a failing
    chunk alone; None when neither fails at this granularity."""
    for chunk in chunks:
        rest = [i for i in current if i not in chunk]
        if rest and test(rest):
            return rest, len(chunks) - 1
    for chunk in chunks:
        if len(chunk) < len(current) and test(chunk):
            return chunk, 2
    return None


def _split(seq: list[int], n: int) -> list[list[int]]:
    """``seq`` cut into ``n`` contiguous chunks of near-equal size (none empty)."""
    n = min(n, len(seq))
    size, extra = divmod(len(seq), n)
    chunks, at = [], 0
    for k in range(n):
        step = size + (1 if k < extra else 0)
        chunks.append(seq[at : at + step])
        at += step
    return chunks
