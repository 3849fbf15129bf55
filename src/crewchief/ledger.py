"""The ledger: SQLite (WAL) under ``.crewchief/``; the truth every view and resume is a query over.

Events are append-only. The ``tasks`` and ``runs`` tables hold each lifecycle's current state as a
projection, updated in the same transaction as the event that moved it, and only through the
lifecycle tables, so an illegal transition never reaches the disk. Schema changes are named
migrations applied once, in order.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, JsonValue

from crewchief.errors import UserError
from crewchief.lifecycle import RunState, TaskState, check_run_transition, check_task_transition
from crewchief.records import (
    Attempt,
    ChangeRequest,
    CheckResult,
    Event,
    EventKind,
    ModelCall,
    Plan,
    Verdict,
    WorkerResult,
)
from crewchief.redact import Redactor
from crewchief.workspace import crewchief_dir

LEDGER_FILE = "ledger.db"

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY, created_at REAL NOT NULL, request_json TEXT NOT NULL,
            base_commit TEXT NOT NULL, target_branch TEXT NOT NULL, state TEXT NOT NULL,
            config_json TEXT NOT NULL, integration_commit TEXT, suite_passed INTEGER
        );
        CREATE TABLE plans (
            run_id TEXT NOT NULL REFERENCES runs(id), version INTEGER NOT NULL,
            plan_json TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (run_id, version)
        );
        CREATE TABLE tasks (
            run_id TEXT NOT NULL REFERENCES runs(id), task_id TEXT NOT NULL,
            position INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (run_id, task_id)
        );
        CREATE TABLE patches (digest TEXT PRIMARY KEY, body BLOB NOT NULL);
        CREATE TABLE attempts (
            id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), task_id TEXT NOT NULL,
            number INTEGER NOT NULL, base_commit TEXT NOT NULL, backend TEXT NOT NULL,
            extra_instruction TEXT, started_at REAL NOT NULL, ended_at REAL, status TEXT,
            result_json TEXT, patch_digest TEXT REFERENCES patches(digest)
        );
        CREATE TABLE checks (
            id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, task_id TEXT, attempt_id TEXT,
            commit_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL, passed INTEGER NOT NULL,
            output TEXT NOT NULL, duration_s REAL NOT NULL, at REAL NOT NULL
        );
        CREATE TABLE verdicts (
            id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, task_id TEXT NOT NULL,
            attempt_id TEXT NOT NULL, verdict_json TEXT NOT NULL, at REAL NOT NULL
        );
        CREATE TABLE integrations (
            id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, build INTEGER NOT NULL,
            position INTEGER NOT NULL, task_id TEXT NOT NULL, attempt_id TEXT NOT NULL,
            commit_id TEXT NOT NULL, at REAL NOT NULL
        );
        CREATE TABLE approvals (
            id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, task_id TEXT, decision TEXT NOT NULL,
            who TEXT NOT NULL, comment TEXT NOT NULL, at REAL NOT NULL
        );
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, task_id TEXT,
            attempt_id TEXT, kind TEXT NOT NULL, data_json TEXT NOT NULL, at REAL NOT NULL
        );
        CREATE INDEX events_run ON events(run_id, seq);
        CREATE INDEX attempts_task ON attempts(run_id, task_id, number);
        CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        CREATE TRIGGER events_append_only_d BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
        """,
    ),
    (
        "0002_model_calls",
        """
        CREATE TABLE model_calls (
            id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, task_id TEXT, attempt_id TEXT,
            role TEXT NOT NULL, model TEXT NOT NULL, input_tokens INTEGER, output_tokens INTEGER,
            cached_tokens INTEGER, latency_s REAL NOT NULL, cost_usd REAL,
            prompt_digest TEXT NOT NULL, at REAL NOT NULL
        );
        CREATE INDEX model_calls_run ON model_calls(run_id, task_id);
        """,
    ),
]


def _now() -> float:
    return time.time()


def new_run_id() -> str:
    """A short, sortable, unique run id: UTC time plus random hex."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


class Ledger:
    """One repository's ledger. Use from one thread; open another Ledger for another thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.redactor = Redactor.from_env()
        self._migrate()

    @classmethod
    def for_repo(cls, repo: Path) -> Ledger:
        return cls(crewchief_dir(repo) / LEDGER_FILE)

    @classmethod
    def existing(cls, repo: Path) -> Ledger:
        """The ledger of ``repo``; UserError if crewchief has never run there."""
        path = repo / ".crewchief" / LEDGER_FILE
        if not path.exists():
            raise UserError(f"no crewchief runs in {repo} yet (no {path.relative_to(repo)})")
        return cls(path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """An immediate write transaction: all of it lands, or none."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        with self.tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, at REAL)")
            done = {r[0] for r in db.execute("SELECT name FROM migrations")}
            for name, sql in MIGRATIONS:
                if name not in done:
                    for stmt in _statements(sql):
                        db.execute(stmt)
                    db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _now()))

    # -- writes ---------------------------------------------------------------------------------

    def _event(
        self,
        db: sqlite3.Connection,
        run_id: str,
        kind: EventKind,
        data: dict[str, JsonValue],
        task_id: str | None = None,
        attempt_id: str | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO events (run_id, task_id, attempt_id, kind, data_json, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, task_id, attempt_id, kind, json.dumps(_scrub(data, self.redactor)), _now()),
        )

    def event(
        self, run_id: str, kind: EventKind, data: dict[str, JsonValue], **ids: str | None
    ) -> None:
        """Append one free-standing event (progress notes, warnings)."""
        with self.tx() as db:
            self._event(db, run_id, kind, data, ids.get("task_id"), ids.get("attempt_id"))

    def create_run(self, request: ChangeRequest, base: str, target: str, config_json: str) -> str:
        request = _scrub_record(request, self.redactor)
        run_id = new_run_id()
        with self.tx() as db:
            db.execute(
                "INSERT INTO runs (id, created_at, request_json, base_commit, target_branch, "
                "state, config_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    _now(),
                    request.model_dump_json(),
                    base,
                    target,
                    RunState.PLANNED,
                    config_json,
                ),
            )
            self._event(
                db, run_id, "run_created", {"base": base, "target": target, "goal": request.goal}
            )
        return run_id

    def record_plan(self, run_id: str, plan: Plan) -> int:
        """Store a new plan version; tasks it introduces start as planned."""
        plan = _scrub_record(plan, self.redactor)
        with self.tx() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM plans WHERE run_id=?", (run_id,)
            ).fetchone()
            version = int(row[0]) + 1
            db.execute(
                "INSERT INTO plans VALUES (?, ?, ?, ?)",
                (run_id, version, plan.model_dump_json(), _now()),
            )
            for pos, task in enumerate(plan.tasks):
                db.execute(
                    "INSERT OR IGNORE INTO tasks VALUES (?, ?, ?, ?)",
                    (run_id, task.id, pos, TaskState.PLANNED),
                )
            self._event(
                db,
                run_id,
                "plan_recorded",
                {"version": version, "tasks": len(plan.tasks), "planner": plan.planner},
            )
        return version

    def set_run_state(self, run_id: str, new: RunState, **data: JsonValue) -> None:
        with self.tx() as db:
            old = RunState(self._run_row(db, run_id)["state"])
            if old == new:
                return
            check_run_transition(old, new)
            db.execute("UPDATE runs SET state=? WHERE id=?", (new, run_id))
            self._event(db, run_id, "run_state", {"from": old, "to": new, **data})

    def set_task_state(self, run_id: str, task_id: str, new: TaskState, **data: JsonValue) -> None:
        """Move a task along its lifecycle (IllegalTransition otherwise), with an event."""
        with self.tx() as db:
            row = db.execute(
                "SELECT state FROM tasks WHERE run_id=? AND task_id=?", (run_id, task_id)
            ).fetchone()
            if row is None:
                raise UserError(f"run {run_id} has no task {task_id}")
            old = TaskState(row["state"])
            check_task_transition(old, new)
            db.execute(
                "UPDATE tasks SET state=? WHERE run_id=? AND task_id=?", (new, run_id, task_id)
            )
            self._event(db, run_id, "task_state", {"from": old, "to": new, **data}, task_id=task_id)

    def start_attempt(self, attempt: Attempt) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO attempts (id, run_id, task_id, number, base_commit, backend, "
                "extra_instruction, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    attempt.id,
                    attempt.run_id,
                    attempt.task_id,
                    attempt.number,
                    attempt.base_commit,
                    attempt.backend,
                    attempt.extra_instruction,
                    _now(),
                ),
            )
            self._event(
                db,
                attempt.run_id,
                "attempt_started",
                {"number": attempt.number, "base": attempt.base_commit, "backend": attempt.backend},
                task_id=attempt.task_id,
                attempt_id=attempt.id,
            )

    def finish_attempt(self, run_id: str, attempt_id: str, result: WorkerResult) -> None:
        """Store the worker's result; the patch goes in content-addressed, once."""
        digest = result.patch_digest() if result.patch else None
        body = _scrub_record(result.model_copy(update={"patch": b""}), self.redactor)
        body_json = body.model_dump_json()
        with self.tx() as db:
            if digest:
                db.execute("INSERT OR IGNORE INTO patches VALUES (?, ?)", (digest, result.patch))
            db.execute(
                "UPDATE attempts SET ended_at=?, status=?, result_json=?, patch_digest=? "
                "WHERE id=?",
                (_now(), result.status, body_json, digest, attempt_id),
            )
            task_id = db.execute(
                "SELECT task_id FROM attempts WHERE id=?", (attempt_id,)
            ).fetchone()[0]
            self._event(
                db,
                run_id,
                "attempt_finished",
                {"status": result.status, "patch": digest, "duration_s": result.duration_s},
                task_id=task_id,
                attempt_id=attempt_id,
            )

    def record_calls(
        self,
        run_id: str,
        calls: Sequence[ModelCall],
        *,
        task_id: str | None = None,
        attempt_id: str | None = None,
    ) -> None:
        """Store model calls (role, model, tokens, latency, cost, prompt digest), one event each."""
        if not calls:
            return
        with self.tx() as db:
            for c in calls:
                db.execute(
                    "INSERT INTO model_calls (run_id, task_id, attempt_id, role, model, "
                    "input_tokens, output_tokens, cached_tokens, latency_s, cost_usd, "
                    "prompt_digest, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        run_id,
                        task_id,
                        attempt_id,
                        c.role,
                        c.model,
                        c.input_tokens,
                        c.output_tokens,
                        c.cached_tokens,
                        c.latency_s,
                        c.cost_usd,
                        c.prompt_digest,
                        c.at or _now(),
                    ),
                )
                self._event(
                    db,
                    run_id,
                    "model_call",
                    c.model_dump(mode="json"),
                    task_id=task_id,
                    attempt_id=attempt_id,
                )

    def model_calls(self, run_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM model_calls WHERE run_id=? ORDER BY id", (run_id,)
        ).fetchall()

    def spent_usd(self, run_id: str, task_id: str | None = None) -> float:
        """Known model spend of a run (or one task); calls of unknown cost count as 0 here."""
        sql = "SELECT COALESCE(SUM(cost_usd), 0) FROM model_calls WHERE run_id=?"
        args: tuple[Any, ...] = (run_id,)
        if task_id is not None:
            sql, args = sql + " AND task_id=?", (run_id, task_id)
        return float(self.db.execute(sql, args).fetchone()[0])

    def record_check(
        self,
        run_id: str,
        check: CheckResult,
        *,
        task_id: str | None = None,
        attempt_id: str | None = None,
        commit: str | None = None,
    ) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO checks (run_id, task_id, attempt_id, commit_id, name, kind, passed, "
                "output, duration_s, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    task_id,
                    attempt_id,
                    commit,
                    check.name,
                    check.kind,
                    int(check.passed),
                    self.redactor(check.output),
                    check.duration_s,
                    _now(),
                ),
            )
            self._event(
                db,
                run_id,
                "check",
                {"name": check.name, "kind": check.kind, "passed": check.passed, "commit": commit},
                task_id=task_id,
                attempt_id=attempt_id,
            )

    def record_verdict(self, run_id: str, task_id: str, attempt_id: str, v: Verdict) -> None:
        v = _scrub_record(v, self.redactor)
        with self.tx() as db:
            db.execute(
                "INSERT INTO verdicts (run_id, task_id, attempt_id, verdict_json, at) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, task_id, attempt_id, v.model_dump_json(), _now()),
            )
            self._event(
                db,
                run_id,
                "verdict",
                {"decision": v.decision, "reviewer": v.reviewer, "reasons": list(v.reasons)},
                task_id=task_id,
                attempt_id=attempt_id,
            )

    def record_integration(
        self, run_id: str, build: int, chain: list[tuple[str, str, str]], tip: str
    ) -> None:
        """Record one integration build: (task, attempt, commit) in order, and its tip."""
        with self.tx() as db:
            for pos, (task_id, attempt_id, commit) in enumerate(chain):
                db.execute(
                    "INSERT INTO integrations (run_id, build, position, task_id, attempt_id, "
                    "commit_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, build, pos, task_id, attempt_id, commit, _now()),
                )
            db.execute(
                "UPDATE runs SET integration_commit=?, suite_passed=NULL WHERE id=?", (tip, run_id)
            )
            self._event(
                db,
                run_id,
                "integrated",
                {"build": build, "tip": tip, "tasks": [c[0] for c in chain]},
            )

    def record_suite(self, run_id: str, commit: str, check: CheckResult) -> None:
        self.record_check(run_id, check, commit=commit)
        with self.tx() as db:
            db.execute(
                "UPDATE runs SET suite_passed=? WHERE id=? AND integration_commit=?",
                (int(check.passed), run_id, commit),
            )

    def record_approval(
        self, run_id: str, task_id: str | None, decision: str, who: str, comment: str = ""
    ) -> None:
        comment = self.redactor(comment)
        with self.tx() as db:
            db.execute(
                "INSERT INTO approvals (run_id, task_id, decision, who, comment, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, task_id, decision, who, comment, _now()),
            )
            self._event(
                db,
                run_id,
                "approval",
                {"decision": decision, "who": who, "comment": comment},
                task_id=task_id,
            )

    # -- reads ----------------------------------------------------------------------------------

    def _run_row(self, db: sqlite3.Connection, run_id: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise UserError(f"no run {run_id!r} in this repository (see `crewchief status`)")
        return row  # type: ignore[no-any-return]

    def run(self, run_id: str) -> sqlite3.Row:
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

    def runs(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM runs ORDER BY created_at").fetchall()

    def request(self, run_id: str) -> ChangeRequest:
        return ChangeRequest.model_validate_json(self.run(run_id)["request_json"])

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

    def attempts(self, run_id: str, task_id: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT * FROM attempts WHERE run_id=?"
        args: tuple[Any, ...] = (run_id,)
        if task_id is not None:
            sql, args = sql + " AND task_id=?", (run_id, task_id)
        return self.db.execute(sql + " ORDER BY started_at, number", args).fetchall()

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

    def checks(self, run_id: str, attempt_id: str | None = None) -> list[sqlite3.Row]:
        if attempt_id is None:
            return self.db.execute(
                "SELECT * FROM checks WHERE run_id=? ORDER BY id", (run_id,)
            ).fetchall()
        return self.db.execute(
            "SELECT * FROM checks WHERE attempt_id=? ORDER BY id", (attempt_id,)
        ).fetchall()

    def verdicts(self, run_id: str, task_id: str | None = None) -> list[tuple[str, Verdict]]:
        rows = self.db.execute("SELECT * FROM verdicts WHERE run_id=? ORDER BY id", (run_id,))
        return [
            (r["attempt_id"], Verdict.model_validate_json(r["verdict_json"]))
            for r in rows
            if task_id is None or r["task_id"] == task_id
        ]

    def integration_chain(self, run_id: str) -> list[sqlite3.Row]:
        """The newest integration build: (task_id, attempt_id, commit_id) in merge order."""
        return self.db.execute(
            "SELECT * FROM integrations WHERE run_id=? AND build=(SELECT MAX(build) FROM "
            "integrations WHERE run_id=?) ORDER BY position",
            (run_id, run_id),
        ).fetchall()

    def next_build(self, run_id: str) -> int:
        row = self.db.execute(
            "SELECT COALESCE(MAX(build), 0) FROM integrations WHERE run_id=?", (run_id,)
        ).fetchone()
        return int(row[0]) + 1

    def approvals(self, run_id: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM approvals WHERE run_id=? ORDER BY id", (run_id,)
        ).fetchall()

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


def _statements(sql: str) -> list[str]:
    """Split a migration into statements; triggers keep their inner ``;`` via sqlite's parser."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]


def accepted_attempt(ledger: Ledger, run_id: str, task_id: str) -> str | None:
    """The newest attempt of ``task_id`` whose verdict was approve, or None."""
    approved = [a for a, v in ledger.verdicts(run_id, task_id) if v.decision == "approve"]
    return approved[-1] if approved else None


R = TypeVar("R", bound=BaseModel)


def _scrub(value: JsonValue, redact: Redactor) -> JsonValue:
    """``value`` with every string in it redacted (secrets never reach the disk)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_scrub(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, redact) for k, v in value.items()}
    return value


def _scrub_record(record: R, redact: Redactor) -> R:
    return type(record).model_validate(_scrub(record.model_dump(mode="json"), redact))
