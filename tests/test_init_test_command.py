"""`crewchief init` writes the test command that runs the project's tests in its own environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from repo_helpers import crewchief, make_repo

PY_PROJECT = {
    "setup.cfg": "",
    "pkg/__init__.py": "",
    "tests/test_pkg.py": "def test_ok():\n    pass\n",
}


def init_test_command(repo: Path) -> str | None:
    proc = crewchief(repo, "init", "--no-architecture")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    value = tomllib.loads((repo / "crewchief.toml").read_text()).get("test_command")
    return None if value is None else str(value)


def test_a_project_virtualenv_runs_the_tests(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", PY_PROJECT)
    python = repo / ".venv/bin/python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    assert init_test_command(repo) == ".venv/bin/python -m pytest -q"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"uv.lock": "version = 1\n"}, "uv run pytest -q"),
        ({"pyproject.toml": '[tool.uv]\ndev-dependencies = ["pytest"]\n'}, "uv run pytest -q"),
        ({"pyproject.toml": '[tool.poetry]\nname = "pkg"\n'}, "poetry run pytest -q"),
        ({"poetry.lock": ""}, "poetry run pytest -q"),
        ({"pyproject.toml": "[tool.hatch.envs.default]\n"}, "hatch test"),
        ({"tox.ini": "[tox]\n"}, "tox"),
        ({"noxfile.py": "import nox\n"}, "nox"),
        ({"pyproject.toml": '[project]\nname = "pkg"\n'}, "python -m pytest -q"),
    ],
)
def test_an_environment_manager_runs_the_tests(
    tmp_path: Path, extra: dict[str, str], expected: str
) -> None:
    repo = make_repo(tmp_path / "r", {**PY_PROJECT, **extra})
    assert init_test_command(repo) == expected


@pytest.mark.parametrize(
    ("lock", "expected"),
    [(None, "npm test"), ("pnpm-lock.yaml", "pnpm test"), ("yarn.lock", "yarn test")],
)
def test_package_json_test_script_runs_with_its_package_manager(
    tmp_path: Path, lock: str | None, expected: str
) -> None:
    files = {"package.json": '{"scripts": {"test": "vitest run"}}', "index.js": ""}
    repo = make_repo(tmp_path / "r", {**files, **({lock: ""} if lock else {})})
    assert init_test_command(repo) == expected


def test_npm_placeholder_test_script_is_no_suite(tmp_path: Path) -> None:
    script = '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'
    repo = make_repo(tmp_path / "r", {"package.json": script})
    assert init_test_command(repo) is None


def test_go_and_cargo_projects_use_their_test_runners(tmp_path: Path) -> None:
    go = make_repo(tmp_path / "go", {"go.mod": "module x\n"})
    rust = make_repo(tmp_path / "rust", {"Cargo.toml": "[package]\nname = 'x'\n"})
    assert init_test_command(go) == "go test ./..."
    assert init_test_command(rust) == "cargo test"
