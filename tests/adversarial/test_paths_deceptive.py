"""Deceptive paths: look-alike letters, case-only and normalization-only twins are refused with
their own reason; a plan may not own anything under .git/ or .crewchief/."""

from __future__ import annotations

import json
import shlex
import unicodedata
from pathlib import Path

import pytest

from crewchief.gate.policy import PolicyRules, evaluate
from crewchief.records import Plan, Task
from crewchief.run.plan import validate
from repo_helpers import (
    crewchief_here,
    default_config,
    git,
    make_repo,
    refs,
    task_states,
    write_plan,
)

HOMOGLYPH = "m\u043ed.py"  # a Cyrillic "о" in mod.py
WHOLE_SCRIPT = "\u0441\u043e\u0440.py"  # Cyrillic letters that read "cop"
NFC_NAME = unicodedata.normalize("NFC", "café.py")
NFD_NAME = unicodedata.normalize("NFD", "café.py")


def add_patch(path: str, text: str = "x = 1") -> bytes:
    """A patch adding ``path`` (written unquoted, as git does with core.quotePath off)."""
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+{text}\n"
    ).encode()


def codes(patch: bytes, existing: tuple[str, ...] = ()) -> set[str]:
    return evaluate(patch, ["src/"], PolicyRules(), existing=existing).codes()


def test_a_homoglyph_in_a_name_is_a_confusable_path() -> None:
    assert codes(add_patch(f"src/{HOMOGLYPH}")) == {"confusable_path"}


def test_a_name_written_wholly_in_look_alike_letters_is_a_confusable_path() -> None:
    assert codes(add_patch(f"src/{WHOLE_SCRIPT}")) == {"confusable_path"}


def test_a_look_alike_directory_is_a_confusable_path() -> None:
    assert codes(add_patch("\u0455rc/a.py")) == {"confusable_path"}


@pytest.mark.parametrize("name", ["ünïcödé.py", "документ.md", "日本語.txt", "Straße.py"])
def test_names_in_one_script_without_look_alikes_pass(name: str) -> None:
    assert codes(add_patch(f"src/{name}")) == set()


def test_a_case_only_twin_of_an_existing_file_is_a_case_collision() -> None:
    assert codes(add_patch("src/MOD.py"), existing=("src/mod.py",)) == {"case_collision"}


def test_a_case_only_twin_of_an_existing_directory_is_a_case_collision() -> None:
    assert codes(add_patch("src/Pkg/a.py"), existing=("src/pkg/b.py",)) == {"case_collision"}


def test_two_new_files_that_differ_only_by_case_collide() -> None:
    patch = add_patch("src/readme.md") + add_patch("src/README.md")
    assert codes(patch) == {"case_collision"}


def test_a_normalization_only_twin_is_a_normalization_collision() -> None:
    assert NFC_NAME != NFD_NAME
    patch = add_patch(f"src/{NFD_NAME}")
    assert codes(patch, existing=(f"src/{NFC_NAME}",)) == {"normalization_collision"}


def test_replacing_a_file_with_its_case_twin_by_a_rename_is_no_collision() -> None:
    patch = (
        b"diff --git a/src/mod.py b/src/MOD.py\nsimilarity index 100%\n"
        b"rename from src/mod.py\nrename to src/MOD.py\n"
    )
    assert codes(patch, existing=("src/mod.py",)) == set()


def _task(owned: str) -> Task:
    return Task(id="t", title="t", instructions="x", owned_paths=(owned,), backend="recipe:command")


@pytest.mark.parametrize(
    "owned", [".git/hooks/x", ".GIT/config", "sub/.Git/x", ".crewchief/ledger.db", ".CrewChief/"]
)
def test_validation_refuses_a_task_owning_a_path_in_git_or_crewchief_in_any_case(
    owned: str,
) -> None:
    plan = Plan(goal="g", planner="hand", tasks=(_task(owned),))
    problems = validate(plan, max_tasks=10)
    assert len(problems) == 1 and owned in problems[0]


# --- through the CLI ----------------------------------------------------------------------------


def _touch(path: str) -> str:
    return f"printf 'x = 1\\n' > {shlex.quote(path)}"


@pytest.fixture
def small(tmp_path: Path) -> Path:
    files = {"pkg/__init__.py": "", "pkg/mod.py": "x = 0\n", f"pkg/{NFC_NAME}": "y = 0\n"}
    config = default_config(test_command="true", fast_checks=[])
    return make_repo(tmp_path / "small", files, config)


def test_deceptive_names_are_refused_through_the_cli_and_never_reach_main(small: Path) -> None:
    cases = {"glyph": f"pkg/{HOMOGLYPH}", "case": "pkg/MOD.py", "nfd": f"pkg/{NFD_NAME}"}
    tasks = [{"id": t, "owns": [p], "command": _touch(p)} for t, p in cases.items()]
    tasks.append({"id": "clean", "owns": ["pkg/new.py"], "command": _touch("pkg/new.py")})
    proc = crewchief_here(small, "run", "--plan", str(write_plan(small, tasks)), "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    status = json.loads(crewchief_here(small, "status", "--json").stdout)
    states = {t["task"]: t["state"] for t in status["task_list"]}
    assert states == {"glyph": "rejected", "case": "rejected", "nfd": "rejected", "clean": "merged"}
    outputs = _scope_outputs(small)
    assert "confusable_path" in outputs["glyph"]
    assert "case_collision" in outputs["case"] and "pkg/mod.py" in outputs["case"]
    assert "normalization_collision" in outputs["nfd"]
    tree = git(small, "ls-tree", "-r", "-z", "--name-only", "main").split("\0")
    assert "pkg/new.py" in tree and not set(cases.values()) & set(tree)


def _scope_outputs(repo: Path) -> dict[str, str]:
    """Each task's (newest) scope check output, as ``show TASK --json`` shows its attempts."""
    found = {}
    for task in task_states(repo):
        shown = json.loads(crewchief_here(repo, "show", task, "--json").stdout)
        checks = [c for a in shown["attempts"] for c in a["checks"]]
        scope = [c["output"] for c in checks if c["kind"] == "scope"]
        if scope:
            found[task] = scope[-1]
    return found


@pytest.mark.parametrize("owned", [".git/hooks/x", ".crewchief/ledger.db"])
def test_a_plan_owning_a_path_in_git_or_crewchief_is_refused_at_validation(
    small: Path, owned: str
) -> None:
    before = refs(small)
    plan = write_plan(small, [{"id": "t", "owns": [owned], "command": "touch .git/hooks/x"}])
    proc = crewchief_here(small, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and owned in lines[0], proc.stderr
    assert refs(small) == before
    assert not (small / ".crewchief" / "ledger.db").exists()
    assert not (small / ".git" / "hooks" / "x").exists()
