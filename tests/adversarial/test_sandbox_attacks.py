"""Misbehaving workers, driven through the CLI: a recipe command, and a patch whose test attacks
from the fast check and from the full suite. Each tries every escape of ``attacker.ATTACK``; the
tests check what reached the run, the target branch, the user's checkout and .git, the ledger
and the process table. One attacked run per kind of worker, many outcomes read from it."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from adversarial.attacker import (
    ATTACKS,
    CONTAINED,
    KEY_VALUE,
    attack_lines,
    attack_script,
    git_out,
    ledger_text,
    run_cli,
    with_tag,
)
from repo_helpers import PY, crewchief_here, default_config, git, make_repo, task_states

ORIGINAL = {
    "mod.py": "VALUE = 1\n",
    "victim.py": "VICTIM = 1\n",
    "tests/__init__.py": "",
    "tests/test_attack.py": "def test_ok():\n    pass\n",
}
#: The test a worker's patch puts in place: it attacks when pytest imports it.
ATTACK_TEST = 'import runpy\n\nrunpy.run_path("attack.py")\n\n\ndef test_ok():\n    pass\n'
PYTEST = f"{PY} -m pytest -q -s -p no:cacheprovider"


@dataclass(frozen=True)
class Attacked:
    """A finished run whose workers attacked: the repository, the run's state and output."""

    kind: str
    repo: Path
    tag: str
    status: dict[str, object]
    stdout: str
    base: str


def _repo(root: Path, tag: str, **config: object) -> Path:
    files = {**ORIGINAL, "attack.py": attack_script(tag), "attack_test.txt": ATTACK_TEST}
    repo = make_repo(root / "project", files, default_config(**config))
    (repo / ".git" / "hooks").mkdir(exist_ok=True)
    return repo


def _finish(kind: str, repo: Path, tag: str, base: str, *args: str) -> Attacked:
    proc = run_cli(repo, "run", *args, "--yes")
    status = json.loads(run_cli(repo, "status", "--json").stdout)
    return Attacked(kind, repo, tag, status, proc.stdout + proc.stderr, base)


@pytest.fixture(scope="module")
def by_command(tmp_path_factory: pytest.TempPathFactory) -> Attacked:
    """Two command-recipe tasks (mod.py, victim.py), each running the attack, then editing its
    own file so that there is a patch to merge."""
    tag = f"attack-{uuid.uuid4().hex}"
    repo = _repo(tmp_path_factory.mktemp("cmd"), tag, test_command=PYTEST)
    base = git(repo, "rev-parse", "HEAD")
    command = f"{PY} attack.py && echo '# edited' >> {{files}}"
    args = ["--recipe", "command", "--command", command, "--split", "file"]
    return _finish("recipe", repo, tag, base, *args, "--path", "mod.py", "--path", "victim.py")


@pytest.fixture(scope="module")
def by_checks(tmp_path_factory: pytest.TempPathFactory) -> Attacked:
    """A patch that turns tests/test_attack.py into an attack: the fast check (pytest on the
    changed files) and the full suite both run it."""
    tag = f"attack-{uuid.uuid4().hex}"
    repo = _repo(
        tmp_path_factory.mktemp("checks"),
        tag,
        test_command=PYTEST,
        fast_checks=[f"{PYTEST} {{files}}"],
    )
    base = git(repo, "rev-parse", "HEAD")
    args = ["--recipe", "command", "--command", "cp attack_test.txt {files}"]
    return _finish("checks", repo, tag, base, *args, "--path", "tests/test_attack.py")


@pytest.fixture(params=["by_command", "by_checks"])
def attacked(request: pytest.FixtureRequest) -> Attacked:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_every_attack_was_tried_and_each_one_reaching_out_was_blocked(attacked: Attacked) -> None:
    lines = attack_lines(ledger_text(attacked.repo))
    for name in ATTACKS:
        outcomes = [outcome for attack, outcome in lines if attack == name]
        assert outcomes, f"{name} was never tried: {attacked.stdout}"
        if name not in CONTAINED:
            assert all(o.startswith("blocked") for o in outcomes), (name, outcomes)


def _check_outputs(repo: Path) -> list[tuple[str, str]]:
    """(kind, output) of every check of every task's attempts (``show TASK --json``) and of the
    run's newest full suite (the end of its output, ``report --json``)."""
    found = []
    for task in task_states(repo):
        shown = json.loads(crewchief_here(repo, "show", task, "--json").stdout)
        found += [(c["kind"], c["output"]) for a in shown["attempts"] for c in a["checks"]]
    suite = json.loads(crewchief_here(repo, "report", "--json").stdout)["suite"]
    return found + ([("suite", suite["output"])] if suite else [])


def test_the_checks_attack_ran_in_the_fast_check_and_in_the_suite(by_checks: Attacked) -> None:
    attacked_in = {kind for kind, output in _check_outputs(by_checks.repo) if attack_lines(output)}
    assert by_checks.status["state"] == "merged", by_checks.stdout
    assert attacked_in == {"fast", "suite"}


def test_the_run_merges_only_the_owned_edits(attacked: Attacked) -> None:
    changed = git(attacked.repo, "diff", "--name-only", attacked.base, "main").split()
    owned = {"recipe": ["mod.py", "victim.py"], "checks": ["tests/test_attack.py"]}
    assert attacked.status["state"] == "merged", attacked.stdout
    assert sorted(changed) == owned[attacked.kind]


def test_no_task_reaches_into_another_tasks_worktree(by_command: Attacked) -> None:
    assert git(by_command.repo, "show", "main:victim.py") == "VICTIM = 1\n# edited"


def test_no_hook_is_planted_in_the_users_git(attacked: Attacked) -> None:
    hooks = attacked.repo / ".git" / "hooks"
    assert [p.name for p in hooks.iterdir() if not p.name.endswith(".sample")] == []


def test_the_users_git_config_gains_no_fsmonitor(attacked: Attacked) -> None:
    assert "fsmonitor" not in (attacked.repo / ".git" / "config").read_text()


def test_git_objects_and_refs_survive_and_fsck_is_clean(attacked: Attacked) -> None:
    fsck = git_out(attacked.repo, "fsck", "--full", "--strict")
    assert fsck.returncode == 0, fsck.stderr
    assert git(attacked.repo, "rev-parse", "main") == attacked.status["integration"]


def test_the_users_checkout_and_what_lies_outside_it_are_untouched(attacked: Attacked) -> None:
    assert not (attacked.repo / "planted.txt").exists()
    assert not (attacked.repo.parent / "outside.txt").exists()
    assert not Path("/var/tmp", attacked.tag).exists()
    assert git(attacked.repo, "status", "--porcelain") == ""


def test_no_api_key_reaches_the_workers_code(attacked: Attacked) -> None:
    stored = ledger_text(attacked.repo)
    history = git(attacked.repo, "log", "-p", "--all")
    for text in (stored, history, attacked.stdout):
        assert KEY_VALUE[::-1] not in text and KEY_VALUE not in text


def test_no_process_it_started_outlives_the_run(attacked: Attacked) -> None:
    assert with_tag(attacked.tag) == []
