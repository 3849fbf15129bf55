"""bench/trust_table.py's counting: which area a test tries, how many cases it stands for, what
its reports say, and when the table lets the command exit 0. Fed with small sources and fake
reports; the real run is the command itself."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trust_table", ROOT / "bench" / "trust_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tt = _load()


def _tried(outcome: str, cases: int = 1, area: str = "patches", benign: bool = False) -> object:
    return tt.Tried(f"tests/x.py::t{cases}{outcome}", area, cases, benign, outcome)


def test_a_test_takes_its_own_entry_else_its_files_area_parameters_aside() -> None:
    forged = "tests/web/test_actions.py::test_a_forged_approver_field_is_ignored_the_server_side"
    assert tt.area_of(f"{forged}_name_is_recorded") == "gate"
    assert tt.area_of("tests/web/test_actions.py::test_approving_a_task") is None
    kill = "tests/adversarial/test_kill9_anywhere.py::test_kill9_leaves_nothing_running[check-2]"
    assert tt.area_of(kill) == "kill -9"
    assert tt.area_of("tests/sandbox/test_doctor.py::test_reasons_to_hold_off[dirty]") is None


def test_every_selected_file_and_test_exists() -> None:
    for selected, area in tt.SELECTION.items():
        path, _, name = selected.partition("::")
        assert (ROOT / path).is_file(), selected
        assert area in tt.AREAS
        if name:
            tree = ast.parse((ROOT / path).read_text())
            functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in functions, selected


def test_inline_corpora_are_counted_from_the_literal_the_test_holds() -> None:
    source = """
    def test_x(project):
        cases = {"a": 1, "b": 2, "c": 3}
        _configure(project, "e", [["a", "http", "u"], ["b", "connect", "h:1"]])
        assert outcomes["hook"] and outcomes["key"] and outcomes["hook"]
    """
    assert tt.assigned_length(source, "cases") == 3
    assert tt.argument_length(source, "_configure", 2) == 2
    assert tt.keys_read(source, "outcomes") == 2
    with pytest.raises(LookupError):
        tt.assigned_length(source, "missing")


def test_every_corpus_count_reads_its_real_test() -> None:
    stems = [Path(p).stem for p in tt.SELECTION if p.startswith("tests/adversarial/")]
    modules = [importlib.import_module(f"adversarial.{stem}") for stem in stems]
    for name, count in tt.CORPORA.items():
        module = next(m for m in modules if hasattr(m, name))
        item = SimpleNamespace(originalname=name, module=module, function=getattr(module, name))
        assert tt.cases_of(item) == count(item) > 1, name


def test_a_property_counts_the_examples_hypothesis_ran_in_every_phase() -> None:
    statistics = (
        "tests/p.py::test_p:\n\n"
        "  - during reuse phase (0.01 seconds):\n"
        "    - 2 passing, 0 failing, and 0 invalid test cases\n"
        "  - during generate phase (1.20 seconds):\n"
        "    - 58 passing, 0 failing, and 7 invalid test cases\n"
    )
    assert tt.hypothesis_examples(statistics) == 60
    item = SimpleNamespace(originalname="test_p", hypothesis_statistics=statistics)
    assert tt.cases_of(item) == 60
    assert tt.cases_of(SimpleNamespace(originalname="test_plain")) == 1


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ([("setup", "passed"), ("call", "passed"), ("teardown", "passed")], "held"),
        ([("setup", "passed"), ("call", "failed"), ("teardown", "failed")], "not held"),
        ([("setup", "failed"), ("teardown", "passed")], "errored"),
        ([("setup", "passed"), ("call", "passed"), ("teardown", "failed")], "errored"),
        ([("setup", "skipped"), ("teardown", "passed")], "skipped"),
        ([("setup", "passed"), ("call", "skipped"), ("teardown", "passed")], "skipped"),
        ([("setup", "passed"), ("teardown", "passed")], "errored"),
    ],
)
def test_a_tests_reports_decide_its_outcome(phases: list[tuple[str, str]], expected: str) -> None:
    outcome, _ = tt.outcome_of(tt.Phase(when, result, reason="why") for when, result in phases)
    assert outcome == expected


def test_an_expected_failure_is_not_held() -> None:
    phases = [tt.Phase("call", "skipped", xfail=True, reason="known hole")]
    assert tt.outcome_of(phases) == ("not held", "marked xfail: known hole")


def test_rows_count_cases_and_skipped_cases_are_not_tried() -> None:
    rows = tt.tally(
        [
            _tried("held", 12),
            _tried("held", 3, benign=True),
            _tried("not held", 5),
            _tried("skipped", 2),
            _tried("errored", 1, area="gate"),
        ]
    )
    patches = rows["patches"]
    assert (patches.tests, patches.tried, patches.benign, patches.held) == (4, 20, 3, 15)
    assert (patches.not_held, patches.skipped, patches.errored) == (5, 2, 0)
    assert rows["gate"].errored == 1 and rows["network"].tests == 0
    assert rows["total"].tried == 21 and rows["total"].held == 15
    assert list(rows) == [*tt.AREAS, "total"]


@pytest.mark.parametrize(
    ("tests", "problems", "exit_code", "ok"),
    [
        (["held", "held"], [], 0, True),
        (["held", "skipped"], [], 0, False),
        (["held", "errored"], [], 1, False),
        (["held", "not held"], [], 1, False),
        (["held"], ["tests/x.py::t: in no area"], 0, False),
        (["held"], [], 2, False),
        ([], [], 0, False),
    ],
)
def test_the_command_exits_0_only_when_everything_ran_and_held(
    tests: list[str], problems: list[str], exit_code: int, ok: bool
) -> None:
    tried = [_tried(outcome, i + 1) for i, outcome in enumerate(tests)]
    assert tt.held_everywhere(tried, problems, exit_code) is ok


def test_each_area_has_the_command_that_reproduces_it() -> None:
    command = tt.reproduce("kill -9")
    assert command.startswith(".venv/bin/pytest -n 0 tests/adversarial/test_kill9_anywhere.py")
    assert all(tt.reproduce(area).count("tests/") >= 1 for area in tt.AREAS)
