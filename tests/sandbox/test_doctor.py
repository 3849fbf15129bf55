"""The doctor on real repositories: readiness findings and when to hold off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crewchief.cli.doctor import diagnose, measure_tests
from repo_helpers import git, make_repo

PASS = f"{sys.executable} -c 'raise SystemExit(0)'"
FAIL = f"{sys.executable} -c 'raise SystemExit(3)'"


def _repo(tmp_path: Path, sources: int, tests: int) -> Path:
    files = {f"pkg/mod{i}.py": f"X = {i}\n" for i in range(sources)}
    files |= {f"tests/test_mod{i}.py": "def test_x():\n    pass\n" for i in range(tests)}
    return make_repo(tmp_path / "repo", {**files, "README.md": "# r\n"}, message="base")


#: A suite that really exercises the code: it runs every module, so the probe's breakage shows.
RUNS_THE_CODE = (
    f'{sys.executable} -c "import glob, runpy; '
    "[runpy.run_path(p) for p in sorted(glob.glob('pkg/*.py'))]\""
)


def test_healthy_repository_is_ready_for_parallel_workers(tmp_path: Path) -> None:
    report = diagnose(_repo(tmp_path, sources=10, tests=5), RUNS_THE_CODE, [])
    assert report.suite.ran and report.suite.passed
    assert report.hold_off == ()
    assert report.recommendation.startswith("Ready")
    git_finding = next(f for f in report.findings if f.name == "git")
    assert git_finding.level == "ok" and report.git_version


@pytest.mark.parametrize(
    ("command", "sources", "tests", "reason"),
    [
        (None, 10, 5, "no test command"),
        (FAIL, 10, 5, "already fails"),
        (PASS, 3, 0, "no test files"),
        (PASS, 40, 2, "thin tests: 2 test files for 40 source files"),
    ],
)
def test_reasons_to_hold_off(
    tmp_path: Path, command: str | None, sources: int, tests: int, reason: str
) -> None:
    report = diagnose(_repo(tmp_path, sources, tests), command, [])
    assert any(reason in r for r in report.hold_off)
    assert "single agent with human review" in report.recommendation


def test_test_files_are_told_from_sources_by_convention(tmp_path: Path) -> None:
    root = _repo(tmp_path, sources=2, tests=1)
    for name in ("web/app.test.ts", "web/app.ts", "go/x_test.go", "go/x.go", "spec/a_spec.rb"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x\n")
    git(root, "add", "-A")
    counts = measure_tests(root)
    assert (counts.source_files, counts.test_files) == (4, 4)


def test_agents_are_found_with_versions_and_keys_but_never_key_values(tmp_path: Path) -> None:
    env = {"ANTHROPIC_API_KEY": "sk-ant-" + "doctor-secret-value-1234", "PATH": "/nonexistent"}
    report = diagnose(
        _repo(tmp_path, 10, 5),
        PASS,
        ["mine", "claude", "nope"],
        agent_tables={"mine": {"command": [sys.executable, "{prompt}"]}},
        model_keys=["ANTHROPIC_API_KEY", "OPENAI_API_KEY"],
        env=env,
    )
    mine, claude, nope = report.agents
    assert mine.path is not None and mine.version and mine.version.startswith("Python 3")
    assert claude.keys_set == ("ANTHROPIC_API_KEY",)
    assert nope.error is not None and "unknown agent" in nope.error
    assert report.model_keys == {"ANTHROPIC_API_KEY": True, "OPENAI_API_KEY": False}
    assert "doctor-secret-value" not in report.model_dump_json()


def test_sandbox_protections_are_reported(tmp_path: Path) -> None:
    report = diagnose(_repo(tmp_path, 10, 5), PASS, [], run_tests=False)
    assert report.sandbox.env_scrubbed
    assert any(f.name == "sandbox" for f in report.findings)
    assert not report.suite.ran
