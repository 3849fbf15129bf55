"""Configuration: defaults < crewchief.toml < CREWCHIEF_* environment < CLI flags."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from crewchief.config import Config, detect, load, render_toml
from crewchief.errors import UserError
from repo_helpers import crewchief_here, make_repo


def test_every_field_has_a_default_and_a_description() -> None:
    Config()
    assert all(f.description for f in Config.model_fields.values())


def test_precedence_defaults_file_environment_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "crewchief.toml").write_text("workers = 3\ntask_timeout_s = 10\nmax_tasks = 7\n")
    monkeypatch.setenv("CREWCHIEF_TASK_TIMEOUT_S", "20")
    monkeypatch.setenv("CREWCHIEF_MAX_TASKS", "8")
    cfg = load(tmp_path, {"max_tasks": 9, "workers": None})
    assert (cfg.workers, cfg.task_timeout_s, cfg.max_tasks, cfg.max_attempts) == (3, 20, 9, 2)


def test_bad_values_are_user_errors(tmp_path: Path) -> None:
    (tmp_path / "crewchief.toml").write_text("workers = 'many'\n")
    with pytest.raises(UserError, match="workers"):
        load(tmp_path)
    (tmp_path / "crewchief.toml").write_text("workers = [\n")
    with pytest.raises(UserError, match="not valid TOML"):
        load(tmp_path)


def test_rendered_file_reads_back_to_the_same_config() -> None:
    cfg = Config(test_command="make check", fast_checks=["a {files}"], workers=6)
    assert Config.model_validate(tomllib.loads(render_toml(cfg))) == cfg


def test_detect_finds_a_python_project_and_its_tests(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "tests").mkdir()
    cfg = detect(tmp_path)
    assert cfg.language == "python" and cfg.test_command == "python -m pytest -q"
    assert any("{files}" in c for c in cfg.fast_checks)


def test_init_writes_a_documented_file_and_never_overwrites(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"go.mod": "module x\n", "main.go": "package main\n"})
    assert crewchief_here(repo, "init").returncode == 0
    text = (repo / "crewchief.toml").read_text()
    assert 'test_command = "go test ./..."' in text and "# Attempts run at once." in text
    again = crewchief_here(repo, "init")
    assert again.returncode == 2 and "exists" in again.stderr


def test_init_offers_an_architecture_skeleton_and_never_overwrites_one(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/core.py": "def f():\n    pass\n"})
    assert crewchief_here(repo, "init").returncode == 0
    skeleton = (repo / "ARCHITECTURE.md").read_text()
    assert "pkg" in skeleton
    (repo / "ARCHITECTURE.md").write_text("# mine\n")
    assert crewchief_here(repo, "init", "--force").returncode == 0
    assert (repo / "ARCHITECTURE.md").read_text() == "# mine\n"
    other = make_repo(tmp_path / "o", {"m.py": "x = 1\n"})
    assert crewchief_here(other, "init", "--no-architecture").returncode == 0
    assert not (other / "ARCHITECTURE.md").exists()
