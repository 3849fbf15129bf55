"""The full test suite on an integration commit, run in a pooled worktree, cached in the ledger
by commit: bisection and resume never run the suite twice on the same commit."""

from __future__ import annotations

from pathlib import Path

from crewchief import sandbox
from crewchief.config import Config
from crewchief.errors import UserError
from crewchief.ledger import Ledger
from crewchief.records import CheckResult
from crewchief.workspace import WorkspacePool


class SuiteRunner:
    def __init__(self, repo: Path, ledger: Ledger, cfg: Config, pool: WorkspacePool) -> None:
        self.repo, self.ledger, self.cfg, self.pool = repo, ledger, cfg, pool

    def result(self, run_id: str, commit: str) -> CheckResult:
        """The suite's result on ``commit``: from the ledger if known, else run and recorded."""
        for row in self.ledger.checks(run_id):
            if row["kind"] == "suite" and row["commit_id"] == commit:
                return CheckResult(
                    name=row["name"],
                    kind="suite",
                    passed=bool(row["passed"]),
                    output=row["output"],
                    duration_s=row["duration_s"],
                )
        check = self._run(commit, run_id)
        self.ledger.record_suite(run_id, commit, check)
        return check

    def _run(self, commit: str, run_id: str) -> CheckResult:
        command = self.cfg.test_command
        if not command:
            raise UserError("no test_command configured (crewchief init, or --test-command)")
        with self.pool.workspace(commit) as ws:
            proc = sandbox.run_shell(
                command,
                ws.path,
                self.cfg.check_sandbox(),
                timeout_s=self.cfg.suite_timeout_s,
                owner=run_id,
            )
        note = f"\n[timed out after {self.cfg.suite_timeout_s:.0f}s]" if proc.timed_out else ""
        return CheckResult(
            name=command,
            kind="suite",
            passed=proc.ok,
            output=proc.output + note,
            duration_s=proc.duration_s,
        )
