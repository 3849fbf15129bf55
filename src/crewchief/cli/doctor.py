"""``crewchief doctor``: is this machine and this repository ready for parallel workers?

Checks git (``merge-tree --write-tree`` needs 2.38+), the test command (configured, and passing on
the current checkout), each configured worker CLI (see :mod:`crewchief.cli.agent_check`), the
sandbox protections this machine can give, and how much of the code the tests could vouch for. Then
says when to hold off: with no tests, a failing suite or very thin test coverage, parallel agents
produce changes nobody can check, so the advice is one agent at a time with a person reviewing.

Returns records only; the CLI renders them. Key values are never read into the report, only
whether a variable is set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from crewchief import git
from crewchief.cli.agent_check import AgentStatus, check_agent
from crewchief.ledger.redact import Redactor
from crewchief.records import Record
from crewchief.sandbox.runner import SandboxConfig, SandboxReport, report

MIN_GIT = (2, 38)
#: Below this many test files per source file, the suite is too thin to gate parallel work.
MIN_TEST_RATIO = 0.1
#: Repositories smaller than this are judged on "any tests at all", not on the ratio.
MIN_SOURCES_FOR_RATIO = 10
_SOURCE_EXT = frozenset(
    [
        ".py",
        ".js",
        ".jsx",
        ".ts",
        ".tsx",
        ".mjs",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".scala",
        ".rb",
        ".php",
        ".c",
        ".cc",
        ".cpp",
        ".h",
        ".hpp",
        ".cs",
        ".swift",
        ".m",
        ".ex",
        ".exs",
        ".erl",
        ".clj",
        ".hs",
        ".ml",
        ".lua",
        ".sh",
    ]
)
_TEST_DIR = re.compile(r"(^|/)(tests?|spec|specs|__tests__|testing)/")
_TEST_NAME = re.compile(
    r"(^|/)(test_[^/]+|[^/]+_test\.\w+|[^/]+\.(test|spec)\.\w+|[^/]+Tests?\.\w+|[^/]+_spec\.rb"
    r"|conftest\.py)$"
)

Level = Literal["ok", "warn", "fail"]


class Finding(Record):
    """One line of the doctor's verdict."""

    name: str
    level: Level
    detail: str


class SuiteStatus(Record):
    command: str | None
    ran: bool
    passed: bool | None
    duration_s: float = 0.0
    #: Why the suite may not gate a run (it fails with the code broken?), None: it may.
    problem: str | None = None
    probe_cached: bool = False
    output_tail: str = ""


class FileCounts(Record):
    """How many tracked files look like source and like tests."""

    source_files: int
    test_files: int

    @property
    def ratio(self) -> float:
        return self.test_files / self.source_files if self.source_files else 0.0


class DoctorReport(Record):
    git_version: str | None
    suite: SuiteStatus
    spread: FileCounts
    agents: tuple[AgentStatus, ...]
    sandbox: SandboxReport
    model_keys: dict[str, bool]
    findings: tuple[Finding, ...]
    hold_off: tuple[str, ...]
    recommendation: str


def diagnose(
    repo: Path,
    test_command: str | None,
    agents: list[str],
    *,
    model_keys: Sequence[str] = (),
    agent_tables: Mapping[str, dict[str, Any]] | None = None,
    run_tests: bool = True,
    test_timeout_s: float = 1800.0,
    env: Mapping[str, str] | None = None,
    suite_sandbox: SandboxConfig | None = None,
) -> DoctorReport:
    """Everything ``crewchief doctor`` reports about ``repo`` and this machine; the suite and its
    probe run in ``suite_sandbox`` (default: bubblewrap, as a run's suite does)."""
    env = os.environ if env is None else env
    version = git_version()
    box = SandboxConfig() if suite_sandbox is None else suite_sandbox
    suite = _suite(repo, test_command, run_tests, test_timeout_s, env, box)
    spread = measure_tests(repo)
    statuses = tuple(check_agent(n, (agent_tables or {}).get(n), env) for n in agents)
    sandbox = report(SandboxConfig())
    keys = {name: bool(env.get(name)) for name in model_keys}
    hold = hold_off_reasons(suite, spread)
    findings = _findings(version, suite, statuses, sandbox, keys) + [
        Finding(name="hold off", level="warn", detail=r) for r in hold
    ]
    return DoctorReport(
        git_version=version,
        suite=suite,
        spread=spread,
        agents=statuses,
        sandbox=sandbox,
        model_keys=keys,
        findings=tuple(findings),
        hold_off=hold,
        recommendation=_recommend(hold),
    )


def git_version() -> str | None:
    """``2.39.5`` from ``git --version``, or None without git."""
    if shutil.which("git") is None:
        return None
    out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+\.\d+(?:\.\d+)?)", out.stdout)
    return found.group(1) if found else None


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def measure_tests(repo: Path) -> FileCounts:
    """Count tracked source files and test files (by path and name conventions)."""
    listed = git.run(["ls-files", "-z"], repo).stdout.decode("utf-8", "surrogateescape")
    sources = tests = 0
    for path in filter(None, listed.split("\0")):
        if os.path.splitext(path)[1] not in _SOURCE_EXT:
            continue
        if _TEST_DIR.search(path) or _TEST_NAME.search(path):
            tests += 1
        else:
            sources += 1
    return FileCounts(source_files=sources, test_files=tests)


def hold_off_reasons(suite: SuiteStatus, spread: FileCounts) -> tuple[str, ...]:
    """Why parallel workers would produce changes nobody can check (empty: go ahead)."""
    reasons = []
    if suite.command is None:
        reasons.append(
            "no test command is configured: nothing can tell a good patch from a bad one"
        )
    elif suite.ran and suite.passed is False:
        reasons.append("the test suite already fails on the current checkout")
    elif suite.problem is not None:
        reasons.append(suite.problem)
    if spread.test_files == 0:
        reasons.append("the repository has no test files")
    elif spread.source_files >= MIN_SOURCES_FOR_RATIO and spread.ratio < MIN_TEST_RATIO:
        reasons.append(
            f"thin tests: {spread.test_files} test files for {spread.source_files} source files"
        )
    return tuple(reasons)


def _recommend(hold: tuple[str, ...]) -> str:
    if hold:
        return (
            "Hold off on parallel workers: use a single agent with human review of every "
            "change until the suite is green and covers the code you want changed."
        )
    return (
        "Ready for parallel workers: the suite is configured, passes, and fails when the code "
        "under test is broken."
    )


def _suite(
    repo: Path,
    command: str | None,
    run_tests: bool,
    timeout_s: float,
    env: Mapping[str, str],
    box: SandboxConfig,
) -> SuiteStatus:
    """The suite on the committed HEAD, and the same sensitivity probe a run makes."""
    if command is None or not run_tests:
        return SuiteStatus(command=command, ran=False, passed=None)
    from crewchief.merge.suite_trust import prove_head

    trust = prove_head(repo, command, timeout_s, box)
    base = trust.base
    assert base is not None, "the base check always runs"
    return SuiteStatus(
        command=command,
        ran=True,
        passed=base.passed,
        duration_s=base.duration_s,
        output_tail=Redactor.from_env(env).redact(base.output[-4000:]),
        problem=trust.problem if base.passed else None,
        probe_cached=trust.probe_cached,
    )


def _findings(
    version: str | None,
    suite: SuiteStatus,
    agents: tuple[AgentStatus, ...],
    sandbox: SandboxReport,
    keys: dict[str, bool],
) -> list[Finding]:
    found = [_git_finding(version), _suite_finding(suite)]
    for a in agents:
        found.append(_agent_finding(a))
    found.append(_sandbox_finding(sandbox))
    for name, present in keys.items():
        level: Level = "ok" if present else "fail"
        found.append(Finding(name=name, level=level, detail="set" if present else "not set"))
    return found


def _git_finding(version: str | None) -> Finding:
    if version is None:
        return Finding(name="git", level="fail", detail="git not found")
    if _version_tuple(version)[:2] < MIN_GIT:
        need = ".".join(map(str, MIN_GIT))
        return Finding(name="git", level="fail", detail=f"{version}: merge-tree needs {need}+")
    return Finding(name="git", level="ok", detail=version)


def _suite_finding(suite: SuiteStatus) -> Finding:
    if suite.command is None:
        return Finding(name="tests", level="fail", detail="no test command configured")
    if not suite.ran:
        return Finding(name="tests", level="warn", detail=f"{suite.command!r} not run")
    if suite.passed and suite.problem is not None:
        return Finding(name="tests", level="fail", detail="pass, but do not test this checkout")
    if suite.passed:
        probe = "probe cached" if suite.probe_cached else "probe: fail when the code is broken"
        return Finding(name="tests", level="ok", detail=f"pass in {suite.duration_s:.1f}s; {probe}")
    return Finding(name="tests", level="fail", detail=f"{suite.command!r} fails")


def _agent_finding(a: AgentStatus) -> Finding:
    name = f"agent {a.name}"
    if a.error is not None:
        return Finding(name=name, level="fail", detail=a.error)
    sandbox = [f"sandbox: {a.sandbox}"] if a.sandbox else []
    detail = "; ".join([a.version or "version unknown", *sandbox, *a.problems, *a.warnings])
    if a.problems:
        return Finding(name=name, level="fail", detail=detail)
    weak = a.warnings or a.sandbox_weak
    return Finding(name=name, level="warn" if weak else "ok", detail=detail)


def _sandbox_finding(s: SandboxReport) -> Finding:
    if s.bwrap is None:
        hint = " (apt install bubblewrap)" if s.platform.startswith("linux") else ""
        return Finding(name="sandbox", level="warn", detail="no filesystem isolation" + hint)
    return Finding(name="sandbox", level="ok", detail="bubblewrap: " + "; ".join(s.not_enforced))
