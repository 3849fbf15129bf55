"""The trust boundary, tried: attack cases tried and held, per area, from one real run.

    .venv/bin/python bench/trust_table.py [-k EXPR] [--list]     (or: make trust-table)

Runs the adversarial tests of the trust boundary (``SELECTION``: tests/adversarial,
tests/policy, tests/sandbox, and the review page's gate tests in tests/web), one at a time, and
prints per area the cases tried, how many held, and what did not: failed, skipped or errored.
Then the total, the wall time, and the pytest command that reproduces each area; ``--list``
first prints every test with its cases and outcome.

The tests run in this process through ``pytest.main`` with a small plugin (``_Recorder``), with
xdist off. In-process because what a test tried is read from the test itself: a test that
iterates a corpus counts the items of the very objects it iterated (``item.module.ATTACKS``,
``CORPUS``), a corpus written inline in a test counts the literal in its source, and a
hypothesis property counts the examples hypothesis ran, from the statistics it leaves on the
item. A ``--junitxml`` file would carry names and outcomes only. Serially, because the plugin is
an object of this process (xdist's workers would not load it); the selection is a small part of
the suite.

How a test counts (``cases_of``): one case per pytest item, parametrized cases each on their own,
unless it is in ``CORPORA`` (a test iterating a corpus: its items) or is a hypothesis property
(its examples run). A test that checks a corpus's size counts as one case. Its cases held when
the test passed; a failed test holds none of them. ``BENIGN`` names the tests whose inputs the
boundary must let through (benign patches, ordinary code and names, a request with the token):
they are counted, and shown apart, since a boundary that refuses everything holds nothing.

Exit status: 0 when every test ran and passed; 1 when anything did not hold, errored or was
skipped (a skip is not "held"), when a test maps to no area, or when pytest itself failed.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds queue.py and sandbox.py: on the path, the standard library's ``queue`` (imported by
# concurrent.futures) would be bench/queue.py in the tests run here.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import ast
import inspect
import os
import re
import shlex
import textwrap
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from rich.console import Console
from rich.markup import escape
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
AREAS = (
    "patches",
    "deceptive paths",
    "secrets",
    "network",
    "gate",
    "misbehaving workers / sandbox",
    "kill -9",
)
_SANDBOX = "misbehaving workers / sandbox"
_DOCTOR = "tests/sandbox/test_doctor.py"
#: What runs (a test file, or one test of a file) and the area it tries.
SELECTION: dict[str, str] = {
    "tests/policy/test_policy_corpus.py": "patches",
    "tests/policy/test_policy_property.py": "patches",
    "tests/policy/test_policy_repo.py": "patches",
    "tests/adversarial/test_paths_deceptive.py": "deceptive paths",
    "tests/adversarial/test_secrets_corpus.py": "secrets",
    "tests/adversarial/test_secrets_runs.py": "secrets",
    "tests/sandbox/test_redact.py": "secrets",
    f"{_DOCTOR}::test_agents_are_found_with_versions_and_keys_but_never_key_values": "secrets",
    "tests/adversarial/test_network_allowlist.py": "network",
    "tests/adversarial/test_network_doctor.py": "network",
    "tests/adversarial/test_network_egress.py": "network",
    "tests/adversarial/test_gate_from_a_sandbox.py": "gate",
    "tests/web/test_gate_token.py": "gate",
    "tests/web/test_security.py": "gate",
    "tests/web/test_actions.py::test_a_forged_approver_field_is_ignored_the_server_side_name_is_recorded": (  # noqa: E501
        "gate"
    ),
    "tests/adversarial/test_sandbox_attacks.py": _SANDBOX,
    "tests/adversarial/test_sandbox_llm_checks.py": _SANDBOX,
    "tests/adversarial/test_sandbox_refusal.py": _SANDBOX,
    "tests/sandbox/test_sandbox.py": _SANDBOX,
    "tests/sandbox/test_sandbox_boundary.py": _SANDBOX,
    f"{_DOCTOR}::test_sandbox_protections_are_reported": _SANDBOX,
    "tests/adversarial/test_kill9_anywhere.py": "kill -9",
    "tests/adversarial/test_kill9_merge_intent.py": "kill -9",
}
#: Tests whose inputs must pass through the boundary (by function name).
BENIGN = frozenset(
    {
        "test_benign_patch_is_accepted",
        "test_benign_patch_parses_back_to_its_exact_bytes",
        "test_benign_patch_applies_with_git_and_gives_its_result",
        "test_new_symlink_through_an_existing_symlink_that_stays_inside",
        "test_names_in_one_script_without_look_alikes_pass",
        "test_replacing_a_file_with_its_case_twin_by_a_rename_is_no_collision",
        "test_ordinary_code_in_a_patch_is_no_finding",
        "test_ordinary_environment_variables_are_not_secrets",
        "test_ordinary_text_is_left_alone",
        "test_endpoints_are_the_sandboxs_and_the_base_urls_the_configuration_passes",
        "test_token_in_a_header_is_accepted",
        "test_token_server_accepts_an_action_with_token_origin_and_csrf",
        "test_same_origin_referer_is_enough_without_origin",
        "test_binding_beyond_loopback_answers_any_host_name_with_the_token",
        "test_a_sandboxed_run_logs_no_escape_hatch",
        "test_large_stdin_and_stdout_do_not_deadlock",
        "test_missing_program_is_reported_not_raised",
        "test_repository_under_a_hidden_home_stays_usable",
        "test_a_branch_moved_by_someone_else_meanwhile_is_no_fault_of_a_confined_worker",
    }
)
#: Wide enough for the table on one line per area (rich would wrap it at 80 columns in a pipe).
TABLE_WIDTH = 110
Outcome = Literal["held", "not held", "skipped", "errored"]


# --- counting the cases of one test -------------------------------------------------------------


def _function(source: str) -> ast.AST:
    return ast.parse(textwrap.dedent(source))


def assigned_length(source: str, name: str) -> int:
    """Items of the literal (dict, list, tuple, set) a function assigns to ``name``."""
    for node in ast.walk(_function(source)):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            if isinstance(node.value, ast.Dict):
                return len(node.value.keys)
            if isinstance(node.value, ast.List | ast.Tuple | ast.Set):
                return len(node.value.elts)
    raise LookupError(f"no literal assigned to {name!r}")


def argument_length(source: str, callee: str, index: int) -> int:
    """Items of the list literal a function passes to ``callee`` as positional ``index``."""
    for node in ast.walk(_function(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == callee
            and len(node.args) > index
            and isinstance(node.args[index], ast.List)
        ):
            return len(node.args[index].elts)  # type: ignore[attr-defined]
    raise LookupError(f"no list literal passed to {callee}()")


def keys_read(source: str, name: str) -> int:
    """Distinct constant keys a function reads from ``name`` (``name["hook"]``)."""
    keys = {
        node.slice.value
        for node in ast.walk(_function(source))
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
        and isinstance(node.slice, ast.Constant)
    }
    if not keys:
        raise LookupError(f"no key read from {name!r}")
    return len(keys)


def hypothesis_examples(statistics: str) -> int:
    """Examples run (passing and failing, over every phase) in hypothesis' statistics text."""
    found = re.findall(r"(\d+) passing, (\d+) failing", statistics)
    return sum(int(passing) + int(failing) for passing, failing in found)


def _source(item: Any) -> str:
    return inspect.getsource(item.function)


#: Tests that iterate a corpus themselves, by function name: how many cases each one is.
CORPORA: dict[str, Callable[[Any], int]] = {
    # every escape of attacker.ATTACKS, per kind of worker
    "test_every_attack_was_tried_and_each_one_reaching_out_was_blocked": (
        lambda item: len(item.module.ATTACKS)
    ),
    # the attacks whose outcome the test reads from the LLM worker's transcript
    "test_a_check_the_model_runs_cannot_reach_the_repository_or_its_key": (
        lambda item: keys_read(_source(item), "outcomes")
    ),
    # every secret format, each in its own file of a patch
    "test_a_patch_adding_any_format_is_held_masked_and_never_merged": (
        lambda item: len(item.module.CORPUS)
    ),
    # every format printed and spelled in commands, every secret-named environment variable
    "test_secrets_printed_by_workers_held_in_the_environment_or_spelled_in_commands_never_persist": (  # noqa: E501
        lambda item: len(item.module.CORPUS) + len(item.module.ENV_SECRETS)
    ),
    # the targets the probing worker tries (its endpoint, the review page, ports, hosts, tunnels)
    "test_a_worker_reaches_its_model_endpoint_and_nothing_else": (
        lambda item: argument_length(_source(item), "_configure", 2)
    ),
    # the deceptive names run through the CLI (the clean control task aside)
    "test_deceptive_names_are_refused_through_the_cli_and_never_reach_main": (
        lambda item: assigned_length(_source(item), "cases")
    ),
}


def cases_of(item: Any) -> int:
    """The attack cases one test item stands for (see the module's docstring)."""
    count = CORPORA.get(getattr(item, "originalname", ""))
    if count is not None:
        return count(item)
    statistics = getattr(item, "hypothesis_statistics", None)
    if statistics:
        return hypothesis_examples(statistics) or 1
    return 1


def area_of(nodeid: str) -> str | None:
    """The area of a test: its own entry in ``SELECTION``, else its file's."""
    test = nodeid.split("[", 1)[0]
    return SELECTION.get(test) or SELECTION.get(nodeid.split("::", 1)[0])


# --- outcomes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One of a test's reports: setup, call or teardown."""

    when: str
    outcome: str  # pytest's: passed, failed, skipped
    xfail: bool = False
    reason: str = ""


def outcome_of(phases: Iterable[Phase]) -> tuple[Outcome, str]:
    """What a test's reports say about its cases, and why when they did not hold."""
    phases = list(phases)
    for p in phases:
        if p.outcome == "failed" and p.when == "call":
            return "not held", p.reason
    for p in phases:
        if p.outcome == "failed":
            return "errored", f"{p.when}: {p.reason}"
    for p in phases:
        if p.xfail:
            return "not held", f"marked xfail: {p.reason}"
        if p.outcome == "skipped":
            return "skipped", p.reason
    if any(p.when == "call" and p.outcome == "passed" for p in phases):
        return "held", ""
    return "errored", "the test never ran"


@dataclass(frozen=True)
class Tried:
    """One test item: its area, its cases and what became of them."""

    nodeid: str
    area: str
    cases: int
    benign: bool
    outcome: Outcome
    reason: str = ""


@dataclass
class Tally:
    """An area's row: ``tried`` = held + not held + errored (skipped cases were not tried)."""

    tests: int = 0
    tried: int = 0
    benign: int = 0
    held: int = 0
    not_held: int = 0
    skipped: int = 0
    errored: int = 0

    def add(self, test: Tried) -> None:
        self.tests += 1
        if test.outcome == "skipped":
            self.skipped += test.cases
            return
        self.tried += test.cases
        self.benign += test.cases if test.benign else 0
        self.held += test.cases if test.outcome == "held" else 0
        self.not_held += test.cases if test.outcome == "not held" else 0
        self.errored += test.cases if test.outcome == "errored" else 0

    @property
    def clean(self) -> bool:
        return self.tests > 0 and self.held == self.tried and not self.skipped


def tally(tests: Iterable[Tried]) -> dict[str, Tally]:
    """One row per area (in ``AREAS`` order, areas nothing tried included) and ``total``."""
    rows = {area: Tally() for area in AREAS}
    total = Tally()
    for test in tests:
        rows.setdefault(test.area, Tally()).add(test)
        total.add(test)
    return {**rows, "total": total}


# --- the run ------------------------------------------------------------------------------------


@dataclass(eq=False)  # pluggy keeps its plugins in sets
class _Recorder:
    """A pytest plugin: every test's reports and cases, and what could not be mapped."""

    phases: dict[str, list[Phase]] = field(default_factory=dict)
    cases: dict[str, tuple[int, bool]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        names = {getattr(item, "originalname", item.name) for item in items}
        for item in items:
            if area_of(item.nodeid) is None:
                self.problems.append(f"{item.nodeid}: in no area")
        for name in sorted(set(CORPORA) - names):
            self.problems.append(f"CORPORA names {name}, which no test selected is")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(f"{report.nodeid or 'collection'}: could not be collected")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        reason = _reason(report)
        phase = Phase(report.when or "", report.outcome, hasattr(report, "wasxfail"), reason)
        self.phases.setdefault(item.nodeid, []).append(phase)
        if report.when == "call" or item.nodeid not in self.cases:
            name = getattr(item, "originalname", item.name)
            self.cases[item.nodeid] = (self._count(item), name in BENIGN)
        return report

    def _count(self, item: pytest.Item) -> int:
        try:
            return cases_of(item)
        except (LookupError, AttributeError, OSError, SyntaxError) as e:
            self.problems.append(f"{item.nodeid}: its cases could not be counted ({e})")
            return 1

    def tried(self) -> list[Tried]:
        found = []
        for nodeid, phases in self.phases.items():
            outcome, reason = outcome_of(phases)
            cases, benign = self.cases[nodeid]
            area = area_of(nodeid) or "in no area"
            found.append(Tried(nodeid, area, cases, benign, outcome, reason))
        return found


def _reason(report: pytest.TestReport) -> str:
    if report.passed:
        return ""
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2])
    lines = [line for line in report.longreprtext.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else report.outcome


def _pytest_args(k: str | None) -> list[str]:
    return ["-p", "no:xdist", "-q", *SELECTION, *(["-k", k] if k else [])]


def reproduce(area: str) -> str:
    """The command that runs one area's tests."""
    paths = [path for path, where in SELECTION.items() if where == area]
    return shlex.join([".venv/bin/pytest", "-n", "0", *paths])


# --- the table ----------------------------------------------------------------------------------


def table(rows: dict[str, Tally]) -> Table:
    columns = ("tests", "tried", "benign", "held", "not held", "skipped", "errored")
    out = Table(title="The trust boundary: cases tried and held")
    out.add_column("area", no_wrap=True)
    for name in columns:
        out.add_column(name, justify="right")
    for area, row in rows.items():
        style = "bold" if area == "total" else None
        if row.tests and not row.clean:
            style = "bold red"
        values = (row.tests, row.tried, row.benign, row.held, row.not_held, row.skipped)
        out.add_row(
            area, *map(str, (*values, row.errored)), style=style, end_section=area == AREAS[-1]
        )
    return out


def render(console: Console, tests: list[Tried], problems: list[str], wall_s: float) -> None:
    rows = tally(tests)
    console.print(table(rows))
    minutes, seconds = divmod(round(wall_s), 60)
    console.print(f"wall time: {wall_s:.0f} s ({minutes} min {seconds:02d} s)")
    console.print("\nreproduce an area:")
    for area in AREAS:
        console.print(f"  {area}: {reproduce(area)}", soft_wrap=True, highlight=False)
    bad = [t for t in tests if t.outcome != "held"]
    for test in bad:
        said = escape(f"{test.nodeid}: {test.reason}")
        console.print(f"[red]{test.outcome}[/]: {said}", soft_wrap=True)
    for problem in problems:
        console.print(f"[red]problem[/]: {escape(problem)}", soft_wrap=True)


def held_everywhere(tests: list[Tried], problems: list[str], pytest_exit: int) -> bool:
    """Exit 0 only for this: something ran, all of it held, nothing else went wrong."""
    everything_held = all(t.outcome == "held" for t in tests)
    return bool(tests) and everything_held and not problems and pytest_exit == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", help="only the tests matching this pytest expression")
    parser.add_argument("--list", action="store_true", help="also print every test's cases")
    args = parser.parse_args()
    os.chdir(ROOT)
    recorder = _Recorder()
    start = time.perf_counter()
    code = pytest.main(_pytest_args(args.k), plugins=[recorder])
    wall_s = time.perf_counter() - start
    tests = recorder.tried()
    problems = [*recorder.problems, *([f"pytest exited {int(code)}"] if code else [])]
    console = Console(width=max(Console().width, TABLE_WIDTH))
    if args.list:
        for test in tests:
            line = f"{test.cases:5d} {test.outcome:<9} {test.area}: {test.nodeid}"
            console.print(line, soft_wrap=True, highlight=False, markup=False)
    render(console, tests, problems, wall_s)
    sys.exit(0 if held_everywhere(tests, problems, int(code)) else 1)


if __name__ == "__main__":
    main()
