"""The ledger: WAL SQLite, named migrations once, append-only events, transitions enforced."""

from __future__ import annotations

import sqlite3
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from crewchief.errors import IllegalTransition, UserError
from crewchief.ledger.migrations import MIGRATIONS
from crewchief.ledger.rows import RunRow
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState, TaskState
from crewchief.records import Attempt, ChangeRequest, ModelCall, Plan, Task, WorkerResult
from secret_corpus import CORPUS


def _ledger_with_run(tmp_path: Path) -> tuple[Ledger, str]:
    ledger = Ledger(tmp_path / "ledger.db")
    run_id = ledger.create_run(ChangeRequest(goal="g"), "a" * 40, "main", "{}")
    task = Task(id="t1", title="t", instructions="i", owned_paths=("x.py",), backend="recipe:x")
    ledger.record_plan(run_id, Plan(goal="g", planner="p", tasks=(task,)))
    return ledger, run_id


def test_ledger_is_wal_and_migrations_apply_once(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.db").close()
    ledger = Ledger(tmp_path / "l.db")
    assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in ledger.db.execute("SELECT name FROM migrations")]
    assert names == [name for name, _ in MIGRATIONS]
    assert names[:2] == ["0001_initial", "0002_model_calls"]


def test_events_are_append_only(tmp_path: Path) -> None:
    ledger, _run_id = _ledger_with_run(tmp_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger.db.execute("UPDATE events SET kind='x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger.db.execute("DELETE FROM events")


def test_illegal_transition_writes_nothing(tmp_path: Path) -> None:
    ledger, run_id = _ledger_with_run(tmp_path)
    before = len(ledger.events(run_id))
    with pytest.raises(IllegalTransition):
        ledger.set_task_state(run_id, "t1", TaskState.MERGED)
    assert ledger.task_states(run_id)["t1"] == TaskState.PLANNED
    assert len(ledger.events(run_id)) == before


def test_patches_are_stored_once_by_content(tmp_path: Path) -> None:
    from crewchief.records import Attempt

    ledger, run_id = _ledger_with_run(tmp_path)
    patch = b"diff --git a/x.py b/x.py\n\xe9 latin-1 bytes kept\n"
    for n in (1, 2):
        attempt = Attempt(
            id=f"a{n}",
            run_id=run_id,
            task_id="t1",
            number=n,
            base_commit="a" * 40,
            backend="recipe:x",
        )
        ledger.start_attempt(attempt)
        ledger.finish_attempt(run_id, attempt.id, WorkerResult(status="ok", patch=patch))
    assert ledger.db.execute("SELECT COUNT(*) FROM patches").fetchone()[0] == 1
    stored = ledger.result("a2")
    assert stored is not None and stored.patch == patch


def test_runs_resolve_by_unique_prefix(tmp_path: Path) -> None:
    ledger, run_id = _ledger_with_run(tmp_path)
    assert ledger.resolve_run(run_id[:10]) == run_id
    assert ledger.resolve_run(None) == run_id
    with pytest.raises(UserError, match="matches no run"):
        ledger.resolve_run("nope")


def test_events_read_back_as_typed_records(tmp_path: Path) -> None:
    ledger, run_id = _ledger_with_run(tmp_path)
    ledger.set_task_state(run_id, "t1", TaskState.READY, reason="go")
    events = ledger.event_records(run_id)
    assert [e.kind for e in events] == ["run_created", "plan_recorded", "task_state"]
    assert events[-1].task_id == "t1" and events[-1].data == {
        "from": "planned",
        "to": "ready",
        "reason": "go",
    }


def test_each_model_call_is_recorded_once_and_read_back_typed(tmp_path: Path) -> None:
    ledger, run_id = _ledger_with_run(tmp_path)
    calls = [
        ModelCall(role="worker", model="m", input_tokens=10, cost_usd=0.5, at=1.0),
        ModelCall(role="reviewer", model="m", output_tokens=3),
    ]
    ledger.record_calls(run_id, calls, task_id="t1", attempt_id="a1")
    events = [e for e in ledger.event_records(run_id) if e.kind == "model_call"]
    assert len(events) == 2
    tables = {r[0] for r in ledger.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "model_calls" not in tables  # the events are the one record
    read = ledger.model_calls(run_id)
    assert [(c.role, c.cost_usd, c.task_id, c.attempt_id) for c in read] == [
        ("worker", 0.5, "t1", "a1"),
        ("reviewer", None, "t1", "a1"),
    ]
    assert read[0].at == 1.0 and read[1].at > 0  # a call with no time gets the recording's


def _attempt(ledger: Ledger, run_id: str, attempt_id: str) -> None:
    ledger.start_attempt(
        Attempt(
            id=attempt_id,
            run_id=run_id,
            task_id="t1",
            number=1,
            base_commit="a" * 40,
            backend="recipe:x",
        )
    )


def _adding(line: str) -> bytes:
    return (
        "diff --git a/x.py b/x.py\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/x.py\n@@ -0,0 +1 @@\n+{line}\n"
    ).encode()


def test_the_gates_tree_is_kept_with_a_patch_stored_as_it_was(tmp_path: Path) -> None:
    ledger, run_id = _ledger_with_run(tmp_path)
    _attempt(ledger, run_id, "a1")
    ok = WorkerResult(status="ok", patch=_adding("x = 1"))
    ledger.finish_attempt(run_id, "a1", ok, tree="b" * 40)
    assert ledger.attempts(run_id, "t1")[0].patch_tree == "b" * 40


def test_no_tree_is_kept_for_a_patch_stored_masked(tmp_path: Path) -> None:
    ledger, run_id = _ledger_with_run(tmp_path)
    _attempt(ledger, run_id, "a1")
    canary = next(c for c in CORPUS if c.name == "aws-secret-key")
    leaky = WorkerResult(status="ok", patch=_adding(canary.text))
    ledger.finish_attempt(run_id, "a1", leaky, tree="b" * 40)
    stored = ledger.result("a1")
    assert stored is not None and canary.values[0].encode() not in stored.patch
    assert ledger.attempts(run_id, "t1")[0].patch_tree is None  # built from the real bytes


def test_the_ledger_hands_out_typed_frozen_rows(tmp_path: Path) -> None:
    ledger, run_id = _ledger_with_run(tmp_path)
    run = ledger.run(run_id)
    assert isinstance(run, RunRow) and run.state is RunState.PLANNED
    with pytest.raises(FrozenInstanceError):
        run.state = RunState.MERGED  # type: ignore[misc]
    row = ledger.db.execute("SELECT *, 1 AS surprise FROM runs").fetchone()
    with pytest.raises(TypeError, match="surprise"):
        RunRow.of(row)  # a column the record does not know is an error, not dropped
