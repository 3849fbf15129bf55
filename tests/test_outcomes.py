"""Honest outcomes, end to end through the CLI: merge exits 0 when it merged, "no change needed"
is its own outcome, a run rejected whole ends, cancel abandons a run, merge never loops."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import crewchief, git, status_json, task_states, write_plan

FINE_A = {"id": "a_fine", "owns": ["alpha/a.py"], "command": "echo '# fine' >> alpha/a.py"}
FINE_B = {"id": "b_fine", "owns": ["gamma/c.py"], "command": "echo '# fine' >> gamma/c.py"}
CULPRIT = {"id": "z_culprit", "owns": ["beta/b.py"], "command": "sed -i 's/+ api/- api/' beta/b.py"}


def test_after_the_suite_drops_a_patch_merge_lands_the_rest_and_exits_0(project: Path) -> None:
    run = crewchief(project, "run", "--plan", str(write_plan(project, [FINE_A, FINE_B, CULPRIT])))
    assert run.returncode == 1, run.stdout + run.stderr  # a task did not make it (yet at the gate)
    assert task_states(project)["z_culprit"] == "rejected"
    shown = crewchief(project, "status")
    assert "full suite: green" in shown.stdout
    assert "z_culprit: rejected: broke the full suite" in shown.stdout
    assert crewchief(project, "review", "--approve-all").returncode == 0
    merged = crewchief(project, "merge")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "not merged" in merged.stdout and "z_culprit" in merged.stdout
    assert status_json(project)["state"] == "merged"
    assert "- api" not in (project / "beta/b.py").read_text()
    assert "# fine" in (project / "gamma/c.py").read_text()


def test_a_worker_with_nothing_to_change_is_no_change_needed(project: Path) -> None:
    noop = {"id": "noop", "owns": ["beta/b.py"], "command": "true"}
    run = crewchief(project, "run", "--plan", str(write_plan(project, [FINE_A, noop])), "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert task_states(project) == {"a_fine": "merged", "noop": "no_change"}
    row = next(t for t in status_json(project)["task_list"] if t["task"] == "noop")
    assert row["reason"].startswith("no change needed")


def test_cancel_abandons_a_run_cleans_its_ref_and_keeps_the_ledger(project: Path) -> None:
    assert crewchief(project, "run", "--plan", str(write_plan(project, [FINE_A]))).returncode == 0
    run_id = status_json(project)["run"]
    assert git(project, "for-each-ref", f"refs/crewchief/runs/{run_id}")
    before = git(project, "rev-parse", "main")
    cancelled = crewchief(project, "cancel", run_id)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    status = status_json(project)
    assert status["state"] == "cancelled" and task_states(project) == {"a_fine": "cancelled"}
    assert git(project, "for-each-ref", "refs/crewchief/runs") == ""
    assert git(project, "rev-parse", "main") == before
    assert not [p for p in (project / ".crewchief/worktrees").glob("wt-*") if p.is_dir()]
    log = crewchief(project, "log", run_id, "--json")
    assert '"run_cancelled"' in log.stdout and '"integrated"' in log.stdout
    again = crewchief(project, "merge", run_id)
    assert again.returncode == 2 and "cancelled" in again.stderr


def test_a_run_whose_every_task_is_rejected_at_the_gate_ends(project: Path) -> None:
    assert crewchief(project, "run", "--plan", str(write_plan(project, [FINE_A]))).returncode == 0
    reject = crewchief(project, "review", "--reject", "a_fine", "--comment", "no")
    assert reject.returncode == 0, reject.stdout + reject.stderr
    status = status_json(project)
    assert status["state"] == "failed"
    merge = crewchief(project, "merge")
    assert merge.returncode == 2 and "failed" in merge.stderr
    assert crewchief(project, "cancel").returncode == 0
    assert status_json(project)["state"] == "cancelled"
