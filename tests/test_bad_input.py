"""Bad input: one clear line on stderr, exit code 2, and nothing changed anywhere."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from repo_helpers import CODEMOD, crewchief, default_config, init_repo, make_repo, refs


def _fingerprint(repo: Path) -> tuple[str, bool]:
    return refs(repo), (repo / ".crewchief" / "ledger.db").exists()


def _no_commits(tmp: Path) -> Path:
    return init_repo(tmp / "empty")


def _dirty(project: Path) -> Path:
    (project / "alpha/a.py").write_text("# uncommitted\n")
    return project


def _no_test_command(tmp: Path) -> Path:
    return make_repo(
        tmp / "notests", {"m.py": "def f():\n    return api.old_api(1)\n"}, "fast_checks = []\n"
    )


CASES: dict[str, tuple[Callable[[Path, Path], Path], list[str], str]] = {
    "unknown recipe": (lambda p, t: p, ["run", "--recipe", "nope"], "unknown recipe 'nope'"),
    "invalid pattern": (
        lambda p, t: p,
        ["run", "--recipe", "codemod", "--lang", "python", "--pattern", "", "--rewrite", "x"],
        "pattern",
    ),
    "unknown language": (
        lambda p, t: p,
        [
            "run",
            "--recipe",
            "codemod",
            "--lang",
            "klingon",
            "--pattern",
            "f($A)",
            "--rewrite",
            "g($A)",
        ],
        "klingon",
    ),
    "pattern matches nothing": (
        lambda p, t: p,
        [
            "run",
            "--recipe",
            "codemod",
            "--lang",
            "python",
            "--pattern",
            "nowhere($A)",
            "--rewrite",
            "x($A)",
        ],
        "matched nothing",
    ),
    "missing test command": (
        lambda p, t: _no_test_command(t),
        ["run", *CODEMOD],
        "no test command",
    ),
    "dirty working tree": (lambda p, t: _dirty(p), ["run", *CODEMOD], "uncommitted changes"),
    "unknown run id": (lambda p, t: p, ["status", "zzz"], "no crewchief runs"),
    "bad plan file": (
        lambda p, t: p,
        ["run", "--plan", "/nonexistent/plan.json"],
        "cannot read plan file",
    ),
    "bad config value": (lambda p, t: p, ["run", *CODEMOD, "--workers", "0"], "workers"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_clear_line_exit_2_and_changes_nothing(
    case: str, project: Path, tmp_path: Path
) -> None:
    setup, args, expected = CASES[case]
    repo = setup(project, tmp_path)
    before = _fingerprint(repo)
    proc = crewchief(repo, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0]
    assert _fingerprint(repo) == before


def test_not_a_git_repository(tmp_path: Path) -> None:
    proc = crewchief(tmp_path, "run", *CODEMOD)
    assert proc.returncode == 2
    assert "not inside a git repository" in proc.stderr


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = _no_commits(tmp_path)
    (repo / "crewchief.toml").write_text(default_config())
    proc = crewchief(repo, "run", *CODEMOD)
    assert proc.returncode == 2
    assert "has no commits yet" in proc.stderr
    assert not (repo / ".crewchief" / "ledger.db").exists()


def test_unknown_run_id_once_runs_exist(project: Path) -> None:
    assert crewchief(project, "run", *CODEMOD).returncode == 0
    before = _fingerprint(project)
    for command in ("status", "log", "review", "merge", "resume"):
        proc = crewchief(project, command, "no-such-run")
        assert proc.returncode == 2, command
        assert "matches no run" in proc.stderr
    assert _fingerprint(project) == before
