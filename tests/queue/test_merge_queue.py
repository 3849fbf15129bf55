"""The merge queue beside the workers, end to end through the real CLI: verified work is
integrated and suite-tested while a slow task still runs, a conflict is re-run before the run's
last task ends, and ``merge --ready`` lands the green prefix while the run goes on.

The slow task waits for a marker file that the test creates only once it has seen, in the
ledger, the event it is about; every order is asserted from the ledger's sequence numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from queue_runs import (
    events,
    finish,
    first,
    integrated_with,
    six_modules,
    start_run,
    suite_runs,
    wait_for_marker,
    wait_until,
    write_plan,
)

from repo_helpers import crewchief_here, git, status_json, task_states

API = "def old_api(x):\n    return x * 2\n"


def _slow(marker: Path, module: str = "m5") -> dict[str, Any]:
    command = f"{wait_for_marker(marker)}; echo '# slow' >> {module}/mod.py"
    return {"id": "slow", "owns": [f"{module}/mod.py"], "command": command}


def _append(task_id: str, module: str) -> dict[str, Any]:
    command = f"echo '# {task_id}' >> {module}/mod.py"
    return {"id": task_id, "owns": [f"{module}/mod.py"], "command": command}


def test_verified_work_is_integrated_and_tested_while_a_slow_task_runs(
    tmp_path: Path, signal_dir: Path
) -> None:
    repo = six_modules(tmp_path, API)
    marker = signal_dir / "go"
    plan = write_plan(repo, [_slow(marker), _append("f1", "m1"), _append("f2", "m2")])
    proc = start_run(repo, "--plan", str(plan), "--yes")
    wait_until(repo, proc, lambda ev: integrated_with(ev, "f1"))
    marker.touch()
    code, output = finish(proc)
    assert code == 0, output
    seen = events(repo)
    tip = next(e["data"]["tip"] for e in seen if integrated_with([e], "f1"))
    tested = first(seen, "check", kind="suite", commit=tip, passed=True)
    slow_done = first(seen, "attempt_finished", task="slow")
    assert first(seen, "queued", tip=tip) < tested < slow_done
    assert first(seen, "integrated", tip=tip) < slow_done
    assert task_states(repo) == {"slow": "merged", "f1": "merged", "f2": "merged"}


def test_a_conflict_is_found_and_re_run_before_the_last_task_ends(
    tmp_path: Path, signal_dir: Path
) -> None:
    repo = six_modules(tmp_path, API, workers=3)
    marker = signal_dir / "go"
    edits = [
        {"id": c, "owns": ["lib/api.py"], "command": f"sed -i '1s/$/  # {c}/' lib/api.py"}
        for c in ("c1", "c2")
    ]
    plan = write_plan(repo, [_slow(marker), *edits])
    proc = start_run(repo, "--plan", str(plan), "--yes")

    def rerun_verified(ev: list[dict[str, Any]]) -> bool:
        for task in ("c1", "c2"):
            starts = [e["seq"] for e in ev if e["kind"] == "attempt_started" and e["task"] == task]
            verified = [
                e["seq"]
                for e in ev
                if e["kind"] == "task_state" and e["task"] == task and e["data"]["to"] == "verified"
            ]
            if len(starts) == 2 and verified and verified[-1] > starts[1]:
                return True
        return False

    seen = wait_until(repo, proc, rerun_verified)
    marker.touch()
    code, output = finish(proc)
    assert code == 0, output
    attempts = {t["task"]: t["attempts"] for t in status_json(repo)["task_list"]}
    rerun = next(t for t in ("c1", "c2") if attempts[t] == 2)
    other = ({"c1", "c2"} - {rerun}).pop()
    conflicted = first(seen, "task_state", task=rerun, to="conflicted")
    second = [e["seq"] for e in seen if e["kind"] == "attempt_started" and e["task"] == rerun][1]
    assert conflicted < second
    assert not any(e["kind"] == "attempt_finished" and e["task"] == "slow" for e in seen)
    shown = crewchief_here(repo, "show", rerun, "--json")  # its attempts, as the gate shows them
    assert shown.returncode == 0, shown.stderr
    attempts_of = json.loads(shown.stdout)["attempts"]
    told = next(a["extra_instruction"] for a in attempts_of if a["number"] == 2)
    assert "no longer merges" in told and f"({other}: task {other})" in told
    assert f"+def old_api(x):  # {rerun}" in told  # its earlier diff
    assert (repo / "lib/api.py").read_text().splitlines()[0].endswith(f"# {other}  # {rerun}")


def test_merge_ready_lands_the_green_prefix_and_the_run_finishes_on_top(
    tmp_path: Path, signal_dir: Path
) -> None:
    repo = six_modules(tmp_path, API)
    base = git(repo, "rev-parse", "main")
    marker = signal_dir / "go"
    plan = write_plan(repo, [_slow(marker), _append("r1", "m1")])
    proc = start_run(repo, "--plan", str(plan))
    wait_until(repo, proc, lambda ev: integrated_with(ev, "r1"))
    run_id = status_json(repo)["run"]
    ready = crewchief_here(repo, "merge", run_id, "--ready")
    assert ready.returncode == 0, ready.stdout + ready.stderr
    landed = git(repo, "rev-parse", "main")
    tasks = git(repo, "log", "--format=%(trailers:key=Crewchief-Task,valueonly)", f"{base}..main")
    assert tasks.split() == ["r1"]
    assert task_states(repo)["r1"] == "merged" and task_states(repo)["slow"] == "running"
    marker.touch()
    code, output = finish(proc)
    assert code == 0, output
    assert status_json(repo)["state"] == "awaiting_approval"
    assert crewchief_here(repo, "review", "--approve-all").returncode == 0
    merged = crewchief_here(repo, "merge")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert git(repo, "merge-base", "--is-ancestor", landed, "main") == ""
    assert "# slow" in (repo / "m5/mod.py").read_text()
    assert "# r1" in (repo / "m1/mod.py").read_text()
    assert task_states(repo) == {"slow": "merged", "r1": "merged"}
    suites = suite_runs(repo)
    assert suites and all(ok for _, ok in suites), suites


def test_merge_ready_says_what_stands_in_the_way_when_nothing_is_ready(
    tmp_path: Path, signal_dir: Path
) -> None:
    repo = six_modules(tmp_path, API)
    marker = signal_dir / "go"
    plan = write_plan(repo, [_slow(marker)])
    proc = start_run(repo, "--plan", str(plan))
    wait_until(repo, proc, lambda ev: first_or_none(ev, "attempt_started", "slow"))
    before = git(repo, "rev-parse", "main")
    ready = crewchief_here(repo, "merge", status_json(repo)["run"], "--ready")
    assert ready.returncode == 2
    assert "nothing in run" in ready.stderr and "has passed the full suite yet" in ready.stderr
    assert git(repo, "rev-parse", "main") == before
    marker.touch()
    assert finish(proc)[0] == 0


def first_or_none(ev: list[dict[str, Any]], kind: str, task: str) -> bool:
    return any(e["kind"] == kind and e["task"] == task for e in ev)
