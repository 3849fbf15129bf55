"""A suite that ran no test fails, whatever the runner; one that ran tests is judged by its exit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crewchief.merge.suite import ran_no_test, run_suite
from crewchief.sandbox.runner import SandboxConfig

#: These tests judge how a finished suite is classified, not the sandbox it runs in.
UNBOXED = SandboxConfig(mode="off")


@pytest.mark.parametrize(
    ("returncode", "output"),
    [
        (5, "no tests ran in 0.01s"),
        (0, "No tests found, exiting with code 0"),
        (0, "\nRan 0 tests in 0.000s\n\nOK\n"),
        (0, "running 0 tests\n\ntest result: ok. 0 passed\n   Doc-tests x\nrunning 0 tests\n"),
        (0, "?   \texample.com/x\t[no test files]\n"),
    ],
)
def test_a_run_of_no_test_is_recognised(returncode: int, output: str) -> None:
    assert ran_no_test(returncode, output)


@pytest.mark.parametrize(
    ("returncode", "output"),
    [
        (0, "3 passed in 0.02s"),
        (0, "running 2 tests\ntest a ... ok\n   Doc-tests x\nrunning 0 tests\n"),
        (0, "?   \texample.com/x/cmd\t[no test files]\nok  \texample.com/x\t0.01s\n"),
        (1, "1 failed"),
    ],
)
def test_a_run_of_some_tests_is_not_empty(returncode: int, output: str) -> None:
    assert not ran_no_test(returncode, output)


def test_an_empty_suite_fails_even_with_exit_0(tmp_path: Path) -> None:
    check = run_suite(f"{sys.executable} -c \"print('no tests found')\"", tmp_path, 60, UNBOXED)
    assert not check.passed and "ran no test" in check.output


def test_a_suite_that_does_not_finish_fails(tmp_path: Path) -> None:
    check = run_suite(f'{sys.executable} -c "import time; time.sleep(60)"', tmp_path, 0.5, UNBOXED)
    assert not check.passed and "timed out" in check.output
