"""The full test suite on an integration commit, run in a pooled worktree, cached in the ledger
by commit: bisection and resume never run the suite twice on the same commit.

It fails closed: a suite that ran no test fails, a timeout fails, and a red result is run once
more on the same commit before anything is blamed; green on that re-run is *flaky*, recorded with
both outputs, and raises ``FlakySuite`` so the run is held for a person instead of counting as
green.
"""

from __future__ import annotations

import re
from pathlib import Path

from crewchief.attempts.workspace import WorkspacePool
from crewchief.config import Config
from crewchief.errors import RunError, UserError
from crewchief.ledger.store import Ledger
from crewchief.records import CheckResult
from crewchief.sandbox import runner as sandbox
from crewchief.sandbox.runner import SandboxConfig

#: pytest's (and unittest's, since 3.12) exit status for "collected no test".
NO_TESTS_EXIT = 5
#: What other runners print when they ran nothing but still exit 0.
_NO_TEST_TEXT = re.compile(r"no tests? (?:found|ran|to run)|\bRan 0 tests\b", re.IGNORECASE)
_CARGO_RUNNING = re.compile(r"^running (\d+) tests?$", re.MULTILINE)
_GO_OK = re.compile(r"^ok\s", re.MULTILINE)
#: Endings of the notes on results a re-run cannot change.
_TIMEOUT_END = ": a suite that does not finish fails]"
_EMPTY_END = ": a suite that tests nothing fails]"


class FlakySuite(RunError):
    """The suite was red, then green, on the same commit: it cannot judge that commit."""

    def __init__(self, commit: str, first: CheckResult, second: CheckResult) -> None:
        super().__init__(
            f"the full suite is flaky on {commit[:12]}: red, then green on a re-run of the same "
            "commit; fix or quarantine the flaky test, then resume"
        )
        self.commit, self.first, self.second = commit, first, second


def ran_no_test(returncode: int | None, output: str) -> bool:
    """Whether a finished suite ran no test at all (pytest exit 5, "no tests found", cargo's
    "running 0 tests" everywhere, go's "[no test files]" with no package ``ok``)."""
    if returncode == NO_TESTS_EXIT:
        return True
    if returncode != 0:
        return False
    if _NO_TEST_TEXT.search(output):
        return True
    counts = [int(n) for n in _CARGO_RUNNING.findall(output)]
    if counts and not any(counts):
        return True
    return "[no test files]" in output and not _GO_OK.search(output)


def run_suite(
    command: str, path: Path, timeout_s: float, box: SandboxConfig, owner: str = ""
) -> CheckResult:
    """One run of ``command`` in ``path``, inside the sandbox ``box`` (the suite runs code the
    workers wrote): passed only if it exited 0, in time, having run tests."""
    proc = sandbox.run_shell(command, path, box, timeout_s=timeout_s, owner=owner)
    note = ""
    if proc.timed_out:
        note = f"\n[timed out after {timeout_s:.0f}s{_TIMEOUT_END}"
    elif ran_no_test(proc.returncode, proc.output):
        note = f"\n[the suite ran no test{_EMPTY_END}"
    return CheckResult(
        name=command,
        kind="suite",
        passed=proc.ok and not note,
        output=proc.output + note,
        duration_s=proc.duration_s,
    )


def _reruns(check: CheckResult) -> bool:
    """A red result worth a second run: not a timeout, not an empty suite (both deterministic)."""
    return not check.passed and not check.output.endswith((_TIMEOUT_END, _EMPTY_END))


class SuiteRunner:
    def __init__(self, repo: Path, ledger: Ledger, cfg: Config, pool: WorkspacePool) -> None:
        self.repo, self.ledger, self.cfg, self.pool = repo, ledger, cfg, pool

    def result(self, run_id: str, commit: str) -> CheckResult:
        """The suite's result on ``commit``: from the ledger if known, else run and recorded.

        A known result also becomes the run's suite result when ``commit`` is its integration
        commit. Raises FlakySuite (after recording both runs) when red turns green on a re-run.
        """
        cached = self.cached(run_id, commit)
        if cached is not None:
            self.ledger.mark_suite(run_id, commit, cached.passed)
            return cached
        check = self._run(commit, run_id)
        if _reruns(check):
            again = self._run(commit, run_id)
            if again.passed:
                self._record_flaky(run_id, commit, check, again)
                raise FlakySuite(commit, check, again)
        self.ledger.record_suite(run_id, commit, check)
        return check

    def cached(self, run_id: str, commit: str) -> CheckResult | None:
        """The recorded suite result of ``commit`` in this run, if any."""
        for row in self.ledger.checks(run_id):
            if row.kind == "suite" and row.commit_id == commit:
                return CheckResult(
                    name=row.name,
                    kind="suite",
                    passed=bool(row.passed),
                    output=row.output,
                    duration_s=row.duration_s,
                )
        return None

    def _record_flaky(
        self, run_id: str, commit: str, first: CheckResult, second: CheckResult
    ) -> None:
        for check in (first, second):
            flaky = check.model_copy(update={"kind": "suite_flaky"})
            self.ledger.record_check(run_id, flaky, commit=commit)
        self.ledger.event(
            run_id,
            "suite_flaky",
            {"commit": commit, "first": first.output[-4000:], "second": second.output[-4000:]},
        )

    def _run(self, commit: str, run_id: str) -> CheckResult:
        command = self.cfg.test_command
        if not command:
            raise UserError("no test_command configured (crewchief init, or --test-command)")
        with self.pool.workspace(commit) as ws:
            return run_suite(
                command, ws.path, self.cfg.suite_timeout_s, self.cfg.check_sandbox(), run_id
            )
