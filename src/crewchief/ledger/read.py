"""Reading the ledger: every query the views, the orchestrator and resume make.

``LedgerReader`` holds one SQLite connection; ``Ledger`` (in ``ledger``) adds the writes.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from crewchief.errors import UserError
from crewchief.ledger.rows import ApprovalRow, AttemptRow, IntegrationRow, RunRow, StoredCheck
from crewchief.lifecycle import TaskState
from crewchief.records import ChangeRequest, Event, ModelCall, Plan, Verdict, WorkerResult


class RecordedCall(ModelCall):
    """A model call as the ledger keeps it: the call, and the task and attempt it was made for
    (both None for the manager's planning and summary)."""

    task_id: str | None = None
    attempt_id: str | None = None


class LedgerReader:
    """Queries over one ledger database connection (``self.db``)."""

    db: sqlite3.Connection

    def _run_row(self, db: sqlite3.Connection, run_id: str) -> RunRow:
        row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise UserError(f"no run {run_id!r} in this repository (see `crewchief status`)")
        return RunRow.of(row)

    def run(self, run_id: str) -> RunRow:
        return self._run_row(self.db, run_id)

    def resolve_run(self, run_id: str | None) -> str:
        """``run_id`` itself, a unique prefix of one, or the newest run when None."""
        if run_id is None:
            row = self.db.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 1").fetchone()
            if row is None:
                raise UserError("no crewchief runs in this repository yet")
            return str(row[0])
        rows = self.db.execute("SELECT id FROM runs WHERE id LIKE ? || '%'", (run_id,)).fetchall()
        if len(rows) != 1:
            what = "matches no run" if not rows else "matches several runs"
            raise UserError(f"run {run_id!r} {what} (see `crewchief status`)")
        return str(rows[0][0])

    def runs(self) -> list[RunRow]:
        return [RunRow.of(r) for r in self.db.execute("SELECT * FROM runs ORDER BY created_at")]

    def request(self, run_id: str) -> ChangeRequest:
        return ChangeRequest.model_validate_json(self.run(run_id).request_json)

    def plan(self, run_id: str) -> Plan:
        row = self.db.execute(
            "SELECT plan_json FROM plans WHERE run_id=? ORDER BY version DESC LIMIT 1", (run_id,)
        ).fetchone()
        if row is None:
            raise UserError(f"run {run_id} has no plan yet")
        return Plan.model_validate_json(row[0])

    def task_states(self, run_id: str) -> dict[str, TaskState]:
        rows = self.db.execute(
            "SELECT task_id, state FROM tasks WHERE run_id=? ORDER BY position", (run_id,)
        )
        return {r["task_id"]: TaskState(r["state"]) for r in rows}

    def attempts(self, run_id: str, task_id: str | None = None) -> list[AttemptRow]:
        sql = "SELECT * FROM attempts WHERE run_id=?"
        args: tuple[Any, ...] = (run_id,)
        if task_id is not None:
            sql, args = sql + " AND task_id=?", (run_id, task_id)
        rows = self.db.execute(sql + " ORDER BY started_at, number", args)
        return [AttemptRow.of(r) for r in rows]

    def result(self, attempt_id: str) -> WorkerResult | None:
        """The stored result of a finished attempt with its patch, or None if it never finished."""
        row = self.db.execute(
            "SELECT result_json, patch_digest FROM attempts WHERE id=?", (attempt_id,)
        ).fetchone()
        if row is None or row["result_json"] is None:
            return None
        result = WorkerResult.model_validate_json(row["result_json"])
        return result.model_copy(update={"patch": self.patch(row["patch_digest"])})

    def patch(self, digest: str | None) -> bytes:
        if digest is None:
            return b""
        row = self.db.execute("SELECT body FROM patches WHERE digest=?", (digest,)).fetchone()
        return bytes(row[0]) if row else b""

    def checks(self, run_id: str, attempt_id: str | None = None) -> list[StoredCheck]:
        if attempt_id is None:
            rows = self.db.execute("SELECT * FROM checks WHERE run_id=? ORDER BY id", (run_id,))
        else:
            rows = self.db.execute(
                "SELECT * FROM checks WHERE attempt_id=? ORDER BY id", (attempt_id,)
            )
        return [StoredCheck.of(r) for r in rows]

    def verdicts(self, run_id: str, task_id: str | None = None) -> list[tuple[str, Verdict]]:
        rows = self.db.execute("SELECT * FROM verdicts WHERE run_id=? ORDER BY id", (run_id,))
        return [
            (r["attempt_id"], Verdict.model_validate_json(r["verdict_json"]))
            for r in rows
            if task_id is None or r["task_id"] == task_id
        ]

    def integration_chain(self, run_id: str) -> list[IntegrationRow]:
        """The newest integration build, in merge order."""
        rows = self.db.execute(
            "SELECT * FROM integrations WHERE run_id=? AND build=(SELECT MAX(build) FROM "
            "integrations WHERE run_id=?) ORDER BY position",
            (run_id, run_id),
        )
        return [IntegrationRow.of(r) for r in rows]

    def next_build(self, run_id: str) -> int:
        row = self.db.execute(
            "SELECT COALESCE(MAX(build), 0) FROM integrations WHERE run_id=?", (run_id,)
        ).fetchone()
        return int(row[0]) + 1

    def approvals(self, run_id: str) -> list[ApprovalRow]:
        rows = self.db.execute("SELECT * FROM approvals WHERE run_id=? ORDER BY id", (run_id,))
        return [ApprovalRow.of(r) for r in rows]

    def event_records(self, run_id: str) -> list[Event]:
        """The run's events as typed records, in order."""
        return [
            Event(
                seq=r["seq"],
                run_id=r["run_id"],
                kind=r["kind"],
                at=r["at"],
                task_id=r["task_id"],
                attempt_id=r["attempt_id"],
                data=json.loads(r["data_json"]),
            )
            for r in self.events(run_id)
        ]

    def events(self, run_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM events WHERE run_id=? ORDER BY seq", (run_id,)
        ).fetchall()

    def model_calls(self, run_id: str) -> list[RecordedCall]:
        """Every model call of the run, in the order it was recorded (its ``model_call`` events)."""
        rows = self.db.execute(
            "SELECT task_id, attempt_id, data_json FROM events "
            "WHERE run_id=? AND kind='model_call' ORDER BY seq",
            (run_id,),
        )
        return [
            RecordedCall.model_validate(
                {
                    **json.loads(r["data_json"]),
                    "task_id": r["task_id"],
                    "attempt_id": r["attempt_id"],
                }
            )
            for r in rows
        ]

    def accepted_attempt(self, run_id: str, task_id: str) -> str | None:
        """The newest attempt of ``task_id`` whose verdict was approve, or None."""
        approved = [a for a, v in self.verdicts(run_id, task_id) if v.decision == "approve"]
        return approved[-1] if approved else None
