"""End to end through the CLI on real git repositories: the spine's behaviours. The CLI runs in
this process (``crewchief_here``); the real process's signals and kills are in
``test_pipeline_interrupts``."""

from __future__ import annotations

import json
from pathlib import Path

from repo_helpers import (
    CODEMOD,
    crewchief_here,
    git,
    refs,
    status_json,
    task_states,
    write_plan,
)


def trailers(repo: Path, rev: str) -> dict[str, str]:
    raw = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", rev)
    return dict(line.split(": ", 1) for line in raw.splitlines() if line)


def test_happy_path_merges_every_task_with_provenance(project: Path) -> None:
    base = git(project, "rev-parse", "main")
    proc = crewchief_here(project, "run", *CODEMOD, "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    commits = git(project, "rev-list", f"{base}..main").split()
    assert len(commits) == 3  # alpha, beta, gamma: one task per package
    assert "old_api(" not in (project / "beta/b.py").read_text()
    assert (project / "gamma/c.py").read_text().count("new_api(") == 2
    status = status_json(project)
    assert status["state"] == "merged" and status["suite_passed"] is True
    for sha in commits:
        t = trailers(project, sha)
        assert t.keys() >= {
            "Crewchief-Run",
            "Crewchief-Task",
            "Crewchief-Attempt",
            "Crewchief-Worker",
            "Crewchief-Instruction",
        }
        assert t["Crewchief-Run"] == status["run"]
        assert t["Crewchief-Instruction"].startswith("sha256:")
    assert git(project, "status", "--porcelain") == ""
    assert not list((project / ".crewchief" / "worktrees").glob("wt-*/"))


def test_patch_outside_its_scope_is_rejected_and_never_lands(project: Path) -> None:
    plan = write_plan(
        project,
        [
            {
                "id": "good",
                "owns": ["alpha/a.py"],
                "command": "sed -i 's/+ 1/+ 1  # ok/' alpha/a.py",
            },
            {
                "id": "sneaky",
                "owns": ["beta/b.py"],
                "command": "echo '# edited' >> beta/b.py && echo 'x = 1' >> lib/api.py",
            },
        ],
    )
    proc = crewchief_here(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 1
    assert task_states(project) == {"good": "merged", "sneaky": "rejected"}
    assert "x = 1" not in (project / "lib/api.py").read_text()
    assert "# edited" not in (project / "beta/b.py").read_text()
    sneaky = next(t for t in status_json(project)["task_list"] if t["task"] == "sneaky")
    assert [c["kind"] for c in sneaky["checks"] if not c["passed"]] == ["scope"]


def test_task_whose_fast_check_fails_is_rejected_with_the_output(project: Path) -> None:
    plan = write_plan(
        project,
        [
            {"id": "broken", "owns": ["alpha/a.py"], "command": "echo 'def (' >> alpha/a.py"},
        ],
    )
    proc = crewchief_here(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 1
    assert task_states(project) == {"broken": "rejected"}
    shown = json.loads(crewchief_here(project, "show", "broken", "--json").stdout)
    failed = [c for a in shown["attempts"] for c in a["checks"] if not c["passed"]]
    assert [c["kind"] for c in failed] == ["fast"] and "SyntaxError" in failed[0]["output"]


def test_conflicting_tasks_second_is_rerun_on_the_new_base(project: Path) -> None:
    plan = write_plan(
        project,
        [
            {
                "id": "first",
                "owns": ["lib/api.py"],
                "command": "sed -i '1s/$/  # first/' lib/api.py",
            },
            {
                "id": "second",
                "owns": ["lib/api.py"],
                "command": "sed -i '1s/$/  # second/' lib/api.py",
            },
        ],
    )
    proc = crewchief_here(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert task_states(project) == {"first": "merged", "second": "merged"}
    first_line = (project / "lib/api.py").read_text().splitlines()[0]
    rows = {t["task"]: t["attempts"] for t in status_json(project)["task_list"]}
    # The merge queue takes whichever patch is verified first; the other meets it there.
    queued_first, rerun = sorted(rows, key=rows.__getitem__)
    assert (rows[queued_first], rows[rerun]) == (1, 2)
    assert first_line.endswith(f"# {queued_first}  # {rerun}")


def test_full_suite_failure_is_bisected_to_the_culprit(project: Path) -> None:
    plan = write_plan(
        project,
        [
            {"id": "fine1", "owns": ["alpha/a.py"], "command": "echo '# fine' >> alpha/a.py"},
            {
                "id": "culprit",
                "owns": ["beta/b.py"],
                "command": "sed -i 's/+ api/- api/' beta/b.py",
            },
            {"id": "fine2", "owns": ["gamma/c.py"], "command": "echo '# fine' >> gamma/c.py"},
        ],
    )
    proc = crewchief_here(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 1
    assert task_states(project) == {"fine1": "merged", "culprit": "rejected", "fine2": "merged"}
    assert "- api" not in (project / "beta/b.py").read_text()
    log = json.loads(crewchief_here(project, "log", "--json").stdout)
    dropped = [e for e in log if e["task"] == "culprit" and e["data"].get("to") == "rejected"]
    assert dropped[0]["data"]["reason"] == "broke the full suite"
    assert "test_g" in dropped[0]["data"]["output"]


def test_merge_refuses_when_the_target_moved(project: Path) -> None:
    assert crewchief_here(project, "run", *CODEMOD).returncode == 0
    (project / "README").write_text("someone else's work\n")
    git(project, "add", "README")
    git(project, "commit", "-q", "-m", "meanwhile")
    before = refs(project)
    assert crewchief_here(project, "review", "--approve-all").returncode == 0
    proc = crewchief_here(project, "merge")
    assert proc.returncode == 1
    assert "main moved from" in proc.stderr and "nothing was changed" in proc.stderr
    assert refs(project) == before


def test_person_rejects_one_task_and_merge_rebuilds_without_it(project: Path) -> None:
    assert crewchief_here(project, "run", *CODEMOD, "--arg", "group=false").returncode == 0
    rejected = crewchief_here(project, "review", "--reject", "t2", "--comment", "not now")
    assert rejected.returncode == 0
    assert crewchief_here(project, "review", "--approve-all").returncode == 0
    proc = crewchief_here(project, "merge")
    assert proc.returncode == 0, proc.stdout  # it merged; t2 is listed as not merged
    assert "not merged" in proc.stdout and "t2" in proc.stdout
    assert task_states(project) == {"t1": "merged", "t2": "rejected", "t3": "merged"}
    assert "old_api(" in (project / "beta/b.py").read_text()
    assert "old_api(" not in (project / "alpha/a.py").read_text()


def test_yes_never_approves_protected_paths_or_high_risk_tasks(project: Path) -> None:
    config = (project / "crewchief.toml").read_text()
    (project / "crewchief.toml").write_text(
        config + 'worker_risk_levels = ["low", "medium", "high"]\n'
    )
    (project / "lib/auth").mkdir()
    (project / "lib/auth/keys.py").write_text("KEY_BITS = 2048\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "auth")
    plan = write_plan(
        project,
        [
            {
                "id": "auth",
                "owns": ["lib/auth/keys.py"],
                "command": "sed -i 's/2048/4096/' lib/auth/keys.py",
            },
            {"id": "plain", "owns": ["alpha/a.py"], "command": "echo '# ok' >> alpha/a.py"},
        ],
    )
    data = json.loads(plan.read_text())
    data["tasks"].append(
        {
            "id": "risky",
            "title": "risky",
            "instructions": "x",
            "owned_paths": ["gamma/c.py"],
            "risk": "high",
            "backend": "recipe:command",
            "spec": {"command": "echo '# risky' >> gamma/c.py"},
        }
    )
    plan.write_text(json.dumps(data))
    before = git(project, "rev-parse", "main")
    proc = crewchief_here(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "needs a person: auth, risky" in proc.stdout
    assert task_states(project) == {"auth": "verified", "plain": "approved", "risky": "verified"}
    assert git(project, "rev-parse", "main") == before
    assert crewchief_here(project, "review", "--approve-all").returncode == 0
    assert task_states(project)["auth"] == "verified"  # --approve-all does not either
    approved = crewchief_here(project, "review", "--approve", "auth", "--approve", "risky")
    assert approved.returncode == 0
    assert crewchief_here(project, "merge").returncode == 0
    assert (project / "lib/auth/keys.py").read_text() == "KEY_BITS = 4096\n"


def test_tasks_above_the_workers_risk_levels_are_held_for_people(project: Path) -> None:
    plan = write_plan(
        project,
        [
            {"id": "easy", "owns": ["alpha/a.py"], "command": "echo '# ok' >> alpha/a.py"},
            {
                "id": "after",
                "owns": ["gamma/c.py"],
                "command": "echo '# x' >> gamma/c.py",
                "depends_on": ["hard"],
            },
        ],
    )
    data = json.loads(plan.read_text())
    data["tasks"].insert(
        1,
        {
            "id": "hard",
            "title": "hard",
            "instructions": "x",
            "owned_paths": ["beta/b.py"],
            "risk": "high",
            "backend": "recipe:command",
            "spec": {"command": "echo '# hard' >> beta/b.py"},
        },
    )
    plan.write_text(json.dumps(data))
    proc = crewchief_here(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 1  # "after" could not run
    assert task_states(project) == {"easy": "merged", "hard": "planned", "after": "blocked"}
    log = json.loads(crewchief_here(project, "log", "--json").stdout)
    assert [e["task"] for e in log if e["kind"] == "held_for_person"] == ["hard"]
    assert "# hard" not in (project / "beta/b.py").read_text()
