"""Task and run lifecycles: the transition tables are the law; anything else raises."""

from __future__ import annotations

import itertools

import pytest

from crewchief import lifecycle
from crewchief.errors import IllegalTransition
from crewchief.lifecycle import (
    RUN_TRANSITIONS,
    TASK_TRANSITIONS,
    RunState,
    TaskState,
    check_run_transition,
    check_task_transition,
)

HAPPY = ["planned", "ready", "running", "produced", "verified", "approved", "merged"]


def test_every_state_has_a_row_in_the_table() -> None:
    assert set(TASK_TRANSITIONS) == set(TaskState)
    assert set(RUN_TRANSITIONS) == set(RunState)


def test_the_happy_path_is_legal() -> None:
    for old, new in itertools.pairwise(HAPPY):
        check_task_transition(TaskState(old), TaskState(new))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("planned", "merged"),
        ("ready", "verified"),
        ("running", "approved"),
        ("merged", "ready"),
        ("cancelled", "ready"),
        ("produced", "merged"),
    ],
)
def test_illegal_task_transitions_raise(old: str, new: str) -> None:
    with pytest.raises(IllegalTransition, match=f"from {old} to {new}"):
        check_task_transition(TaskState(old), TaskState(new))


def test_side_exits_from_the_design_are_legal() -> None:
    for old, new in [
        ("produced", "ready"),
        ("verified", "conflicted"),
        ("conflicted", "ready"),
        ("ready", "blocked"),
        ("running", "failed"),
        ("rejected", "ready"),
    ]:
        check_task_transition(TaskState(old), TaskState(new))


def test_merged_and_cancelled_are_final() -> None:
    assert not TASK_TRANSITIONS[TaskState.MERGED]
    assert not TASK_TRANSITIONS[TaskState.CANCELLED]
    assert not RUN_TRANSITIONS[RunState.MERGED]


def test_a_merged_run_cannot_run_again() -> None:
    with pytest.raises(IllegalTransition):
        check_run_transition(RunState.MERGED, RunState.RUNNING)


def test_closed_runs_are_the_ones_with_no_way_out() -> None:
    assert {s for s, out in RUN_TRANSITIONS.items() if not out} == lifecycle.RUN_CLOSED


def test_a_run_killed_mid_integration_has_work_left_for_a_driver() -> None:
    assert RunState.INTEGRATING in lifecycle.RUN_WITH_WORK
    assert RunState.AWAITING_APPROVAL not in lifecycle.RUN_WITH_WORK
    assert not lifecycle.RUN_WITH_WORK & lifecycle.RUN_CLOSED


def test_a_task_is_never_both_accepted_and_dead() -> None:
    assert not lifecycle.TASK_ACCEPTED & lifecycle.TASK_DEAD
    assert TaskState.MERGED not in lifecycle.TASK_TO_LAND
