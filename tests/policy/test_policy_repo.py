"""Policy checks that need the base checkout: symlinks already in the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_patchkit import add, modify, rename, symlink
from pydantic import ValidationError

from crewchief.gate.policy import PolicyDecision, PolicyRules, evaluate, sensitive_match
from repo_helpers import init_repo, write_files


def _repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "repo")
    write_files(repo, {"src/a.py": "a\n", "lib/x.py": "x\n"})
    (repo / "src" / "root").symlink_to("..")
    (repo / "src" / "vendor").symlink_to("../lib")
    (repo / "src" / "deep").mkdir()
    (repo / "src" / "deep" / "up").symlink_to("../a.py")
    return repo


def test_pure_rename_of_a_symlink_is_checked_against_the_repo(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    patch = rename("src/deep/up", "up", b"").patch
    with_repo = evaluate(patch, ("src/", "up"), PolicyRules(), repo=repo)
    assert with_repo.codes() == {"symlink_escape"}
    # Without the checkout, a rename with no mode line looks like a plain file rename.
    assert evaluate(patch, ("src/", "up"), PolicyRules()).accepted


def test_new_symlink_through_an_existing_symlink_that_escapes(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    patch = symlink("src/x", "root/../etc").patch  # lexically "src/etc", really "../etc"
    assert evaluate(patch, ("src/",), PolicyRules(), repo=repo).codes() == {"symlink_escape"}


def test_new_symlink_through_an_existing_symlink_that_stays_inside(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    patch = symlink("src/x", "vendor/x.py").patch
    assert evaluate(patch, ("src/",), PolicyRules(), repo=repo).accepted


def test_writing_through_a_symlinked_directory_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    patch = modify("src/vendor/x.py", b"x\n", b"y\n").patch
    decision = evaluate(patch, ("src/",), PolicyRules(), repo=repo)
    assert decision.codes() == {"unsafe_path"}
    assert "src/vendor" in decision.violations[0].detail


def test_sensitive_glob_with_double_star_in_the_middle() -> None:
    rules = PolicyRules(sensitive=("deploy/**/secrets.yml",))
    for path in ("deploy/secrets.yml", "deploy/a/b/secrets.yml"):
        assert evaluate(add(path, b"x\n").patch, ("deploy/",), rules).codes() == {"sensitive_path"}
    assert evaluate(add("src/deploy/secrets.yml", b"x\n").patch, ("src/",), rules).accepted


def test_unanchored_sensitive_name_matches_any_depth_but_not_a_suffix() -> None:
    rules = PolicyRules(sensitive=("CLAUDE.md",))
    assert not evaluate(add("a/b/claude.md", b"x\n").patch, ("a/",), rules).accepted
    assert evaluate(add("a/NOTCLAUDE.md", b"x\n").patch, ("a/",), rules).accepted


def test_decision_is_a_frozen_record_that_round_trips_as_json() -> None:
    decision = evaluate(add(".git/hooks/x", b"x\n").patch, ("",), PolicyRules())
    assert PolicyDecision.model_validate_json(decision.model_dump_json()) == decision
    with pytest.raises(ValidationError):
        decision.accepted = True  # type: ignore[misc]


def test_size_limit_is_checked_before_parsing() -> None:
    decision = evaluate(b"x" * 2000, ("src/",), PolicyRules(max_patch_bytes=1000))
    assert decision.codes() == {"too_large"}


def test_sensitive_match_names_the_pattern() -> None:
    assert sensitive_match(".github/workflows/ci.yml") == ".github/**"
    assert sensitive_match("pkg/AGENTS.md") == "AGENTS.md"
    assert sensitive_match("src/app.py") is None
    assert sensitive_match("deploy/prod.env", ["deploy/*.env"]) == "deploy/*.env"
