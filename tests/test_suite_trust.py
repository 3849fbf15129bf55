"""The suite is proven to test this checkout before it gates anything; it fails closed.

End to end through the CLI (in-process) on real repositories with real pytest suites.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from repo_helpers import (
    TEST_COMMAND,
    crewchief_here,
    default_config,
    git,
    log_json,
    make_repo,
    status_json,
    write_plan,
)

SHAPES = {
    "pyproject.toml": '[project]\nname = "shapes"\nversion = "1.0"\n',
    "src/shapes/__init__.py": "from shapes.area import square\n",
    "src/shapes/area.py": "def square(x):\n    return x * x\n",
    "tests/test_area.py": "from shapes import square\n\n\ndef test_square():\n"
    "    assert square(3) == 9\n",
}


#: These tests are about the suite's trust: the probe on, and the suite's fixtures (an installed
#: copy, markers under tmp_path) visible, so the suite runs unsandboxed (the sandbox has its own).
TRUST_TESTS: dict[str, object] = {"suite_probe": True, "sandbox": "off"}


def shapes_repo(tmp_path: Path, test_command: str) -> Path:
    config = default_config(**TRUST_TESTS, test_command=test_command)
    return make_repo(tmp_path / "shapes", SHAPES, config)


def installed_copy(tmp_path: Path) -> Path:
    """A site directory holding an installed (non-editable) copy of ``shapes``."""
    site = tmp_path / "site-packages"
    (site / "shapes").mkdir(parents=True)
    (site / "shapes/__init__.py").write_text(SHAPES["src/shapes/__init__.py"])
    (site / "shapes/area.py").write_text(SHAPES["src/shapes/area.py"])
    return site


EDIT_AREA = {
    "id": "area",
    "owns": ["src/shapes/area.py"],
    "command": "sed -i 's/x \\* x/x ** 2/' src/shapes/area.py",
}
CHECKOUT_SUITE = default_config(**TRUST_TESTS, test_command=f"PYTHONPATH=src {TEST_COMMAND}")


def run_events(repo: Path, kind: str) -> list[dict[str, Any]]:
    """The data of every ``kind`` event of every run in ``repo`` (``log --json``), oldest first."""
    listed = crewchief_here(repo, "status", "--all", "--json")
    assert listed.returncode == 0, listed.stderr
    runs = [r["run"] for r in json.loads(listed.stdout)]
    return [e["data"] for run in runs for e in log_json(repo, run) if e["kind"] == kind]


def test_probe_refuses_a_suite_that_imports_an_installed_copy(tmp_path: Path) -> None:
    site = installed_copy(tmp_path)
    repo = shapes_repo(tmp_path, f"PYTHONPATH={site} {TEST_COMMAND}")
    proc = crewchief_here(repo, "run", "--plan", str(write_plan(repo, [EDIT_AREA])), "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    status = status_json(repo)
    assert status["state"] == "failed"
    (trust,) = run_events(repo, "suite_trust")
    assert trust["trusted"] is False
    assert f"imports shapes from {site}/shapes/__init__.py" in trust["problem"]
    assert "shadows the checkout" in trust["problem"]
    assert git(repo, "rev-list", "--count", "main") == "1"  # nothing merged


def test_probe_passes_a_suite_that_tests_the_checkout_and_is_cached(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shapes", SHAPES, CHECKOUT_SUITE)
    first = crewchief_here(repo, "run", "--plan", str(write_plan(repo, [EDIT_AREA])))
    assert first.returncode == 0, first.stdout + first.stderr
    assert status_json(repo)["state"] == "awaiting_approval"
    again = crewchief_here(repo, "run", "--plan", str(write_plan(repo, [EDIT_AREA])))
    assert again.returncode == 0, again.stdout + again.stderr
    trusts = run_events(repo, "suite_trust")
    assert [t["trusted"] for t in trusts] == [True, True]
    assert [t["probe_cached"] for t in trusts] == [False, True]
    assert trusts[0]["broken"] == ["src/shapes/area.py"]


def test_a_suite_red_on_the_base_stops_the_run_before_any_patch_is_blamed(tmp_path: Path) -> None:
    files = {**SHAPES, "tests/test_base.py": "def test_base_is_red():\n    assert 1 == 2\n"}
    repo = make_repo(tmp_path / "red", files, CHECKOUT_SUITE)
    proc = crewchief_here(repo, "run", "--plan", str(write_plan(repo, [EDIT_AREA])), "--yes")
    assert proc.returncode == 1
    status = status_json(repo)
    assert status["state"] == "failed"
    assert {t["task"]: t["state"] for t in status["task_list"]} == {"area": "verified"}
    (trust,) = run_events(repo, "suite_trust")
    assert "fails on the base commit" in trust["problem"]
    assert "test_base_is_red" in trust["problem"]


def test_a_suite_that_collects_no_test_fails(tmp_path: Path) -> None:
    files = {k: v for k, v in SHAPES.items() if not k.startswith("tests/")}
    files["tests/helpers.py"] = "VALUE = 1\n"
    repo = make_repo(tmp_path / "empty", files, CHECKOUT_SUITE)
    proc = crewchief_here(repo, "run", "--plan", str(write_plan(repo, [EDIT_AREA])), "--yes")
    assert proc.returncode == 1
    (trust,) = run_events(repo, "suite_trust")
    assert "the suite ran no test" in trust["problem"]


FLAKY_TEST = """\
import hashlib
import os
from pathlib import Path

from shapes import square


def test_square_fails_the_first_time_on_a_changed_tree():
    # Deterministic flakiness, not timing: on a tree whose area.py was changed, the first run
    # fails and leaves a marker (outside the tree) that makes every later run pass.
    source = Path("src/shapes/area.py").read_bytes()
    marker = Path(os.environ["FLAKY_MARKERS"]) / hashlib.sha256(source).hexdigest()
    first = not marker.exists()
    marker.touch()
    assert not (first and b"**" in source)
    assert square(3) == 9
"""


def test_a_red_suite_that_passes_on_a_rerun_is_flaky_and_holds_the_run(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    files = {**SHAPES, "tests/test_flaky.py": FLAKY_TEST}
    command = f"FLAKY_MARKERS={markers} PYTHONPATH=src {TEST_COMMAND}"
    config = default_config(**TRUST_TESTS, test_command=command)
    repo = make_repo(tmp_path / "flaky", files, config)
    proc = crewchief_here(repo, "run", "--plan", str(write_plan(repo, [EDIT_AREA])), "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    status = status_json(repo)
    assert status["state"] == "interrupted"
    assert {t["task"]: t["state"] for t in status["task_list"]} == {"area": "verified"}
    (flaky,) = run_events(repo, "suite_flaky")
    assert "1 failed" in flaky["first"] and "2 passed" in flaky["second"]
    assert flaky["commit"] == status["integration"]
    assert "flaky" in proc.stdout
    assert git(repo, "rev-list", "--count", "main") == "1"


def test_doctor_runs_the_same_probe_and_names_the_shadowing_copy(tmp_path: Path) -> None:
    site = installed_copy(tmp_path)
    repo = shapes_repo(tmp_path, f"PYTHONPATH={site} {TEST_COMMAND}")
    proc = crewchief_here(repo, "doctor", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["suite"]["passed"] is True
    assert f"imports shapes from {site}" in report["suite"]["problem"]
    assert any("does not test this checkout" in r for r in report["hold_off"])


def test_doctor_caches_a_probe_that_proved_the_suite(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shapes", SHAPES, CHECKOUT_SUITE)
    reports = [json.loads(crewchief_here(repo, "doctor", "--json").stdout) for _ in range(2)]
    assert [r["suite"]["problem"] for r in reports] == [None, None]
    assert [r["suite"]["probe_cached"] for r in reports] == [False, True]
