"""Landing groups end to end, through the CLI (in-process) on real repositories with a real pytest
suite: the suite judges whole groups, a red group's culprit is found by leaving tasks out, and a
group lands whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

from queue_runs import MODULES, six_modules, suite_runs, write_plan

from repo_helpers import crewchief_here, git, status_json, task_states

BOTH_NAMES = "def old_api(x):\n    return x * 2\n\n\ndef new_api(x):\n    return x * 2\n"
OLD_NAME_ONLY = "def old_api(x):\n    return x * 2\n"


def _rename(i: int, wrong: bool = False) -> dict[str, object]:
    edit = f"s/old_api(v) + {i}/new_api(v) + {i + 1 if wrong else i}/"
    return {"id": f"m{i}", "owns": [f"m{i}/mod.py"], "command": f"sed -i '{edit}' m{i}/mod.py"}


def _tasks_in(repo: Path, commit: str, base: str) -> set[str]:
    raw = git(repo, "log", "--format=%(trailers:key=Crewchief-Task,valueonly)", f"{base}..{commit}")
    return {line.strip() for line in raw.splitlines() if line.strip()}


def _reasons(repo: Path) -> dict[str, str]:
    log = json.loads(crewchief_here(repo, "log", "--json").stdout)
    return {e["task"]: e["data"]["reason"] for e in log if e["data"].get("to") == "rejected"}


def test_the_culprit_of_a_red_rename_group_is_the_wrong_task(tmp_path: Path) -> None:
    repo = six_modules(tmp_path, BOTH_NAMES)
    base = git(repo, "rev-parse", "main")
    tasks = [_rename(i, wrong=i == 4) for i in range(1, MODULES)]
    tasks.append({"id": "m6", "owns": ["m6/mod.py"], "command": "echo '# m6' >> m6/mod.py"})
    plan = write_plan(repo, tasks, {"rename": [t["id"] for t in tasks]})
    proc = crewchief_here(repo, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reasons = _reasons(repo)
    assert reasons.pop("m4") == "broke the full suite"
    assert reasons == {
        f"m{i}": "its landing group rename cannot land: m4 broke the full suite"
        for i in (1, 2, 3, 5, 6)
    }
    assert git(repo, "rev-parse", "main") == base  # the group lands whole or not at all
    green = [_tasks_in(repo, c, base) for c, ok in suite_runs(repo) if ok and c != base]
    # found by leaving tasks out: builds of the group without m4 were green, none with it
    assert green and all(held and "m4" not in held for held in green)


def test_a_group_green_only_as_a_whole_lands_and_the_independent_culprit_is_named(
    tmp_path: Path,
) -> None:
    """Every prefix of this rename is red by nature (callers renamed before or after the
    definition); a prefix bisection would blame the definition."""
    repo = six_modules(tmp_path, OLD_NAME_ONLY)
    base = git(repo, "rev-parse", "main")
    rename = [
        {
            "id": "define",
            "owns": ["lib/api.py"],
            "command": "sed -i 's/def old_api/def new_api/' lib/api.py",
        },
        *[_rename(i) for i in range(1, MODULES)],
    ]
    wrong = {"id": "other", "owns": ["m6/mod.py"], "command": "sed -i 's/v + 6/v + 7/' m6/mod.py"}
    plan = write_plan(repo, [*rename, wrong], {"rename": [t["id"] for t in rename]})
    proc = crewchief_here(repo, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # "other" did not make it
    states = task_states(repo)
    assert states.pop("other") == "rejected" and _reasons(repo)["other"] == "broke the full suite"
    assert set(states.values()) == {"merged"}
    assert "old_api" not in (repo / "lib/api.py").read_text()
    group = {t["id"] for t in rename}
    for commit, _ in suite_runs(repo):  # the suite only ever judged whole groups
        held = _tasks_in(repo, commit, base) & group
        assert held in (set(), group), held


def test_the_gate_shows_each_task_s_landing_group(tmp_path: Path) -> None:
    repo = six_modules(tmp_path, BOTH_NAMES)
    tasks = [_rename(1), _rename(2), _rename(3)]
    plan = write_plan(repo, tasks, {"rename": ["m1", "m2"]})
    assert crewchief_here(repo, "run", "--plan", str(plan)).returncode == 0
    rows = {t["task"]: t.get("group") for t in status_json(repo)["task_list"]}
    assert rows == {"m1": "rename", "m2": "rename", "m3": None}
    shown = crewchief_here(repo, "status").stdout
    assert "rename" in shown
