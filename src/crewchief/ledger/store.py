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

from pydantic import JsonValue

from crewchief.attempts.workspace import crewchief_dir
from crewchief.errors import UserError
from crewchief.gate.patchfile import PatchParseError, parse
from crewchief.gate.secretscan import Finding, mask_patch, scan_files
from crewchief.ledger.migrations import apply_migrations
from crewchief.ledger.read import LedgerReader
from crewchief.ledger.redact import Redactor, redact_json, redact_record
from crewchief.lifecycle import RunState, TaskState, check_run_transition, check_task_transition
from crewchief.records import (
    Attempt,
    ChangeRequest,
    CheckResult,
    EventKind,
    ModelCall,
    Plan,
    TranscriptEntry,
    Verdict,
    WorkerResult,
)

LEDGER_FILE = "ledger.db"


def _now() -> float:
    return time.time()


def _patch_secrets(patch: bytes, redactor: Redactor) -> list[Finding] | None:
    """The secrets ``patch`` adds (the gate's own finding, see policy), None if it does not
    parse."""
    try:
        return scan_files(parse(patch), redactor.literals) if patch else []
    except PatchParseError:
        return None


def new_run_id() -> str:
    """A short, sortable, unique run id: UTC time plus random hex."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


class Ledger(LedgerReader):
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
            apply_migrations(db)

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
        from crewchief.ledger import events  # built on the first write: reads don't pay

        events.payload(kind, data)  # the data fits its kind, or nothing is written
        db.execute(
            "INSERT INTO events (run_id, task_id, attempt_id, kind, data_json, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                run_id,
                task_id,
                attempt_id,
                kind,
                json.dumps(redact_json(data, self.redactor)),
                _now(),
            ),
        )

    def event(
        self, run_id: str, kind: EventKind, data: dict[str, JsonValue], **ids: str | None
    ) -> None:
        """Append one free-standing event (progress notes, warnings)."""
        with self.tx() as db:
            self._event(db, run_id, kind, data, ids.get("task_id"), ids.get("attempt_id"))

    def _redact_json_text(self, text: str) -> str:
        """A JSON document with every string in it redacted (a command in the configuration
        that carries a literal secret is stored, and so re-run on resume, without it)."""
        return json.dumps(redact_json(json.loads(text), self.redactor))

    def create_run(
        self,
        request: ChangeRequest,
        base: str,
        target: str,
        config_json: str,
        plan: Plan | None = None,
    ) -> str:
        """A new run, with its first ``plan`` in the same transaction when given (a kill can
        then never leave a run that has no plan)."""
        request = redact_record(request, self.redactor)
        config_json = self._redact_json_text(config_json)
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
            if plan is not None:
                self._insert_plan(db, run_id, redact_record(plan, self.redactor))
        return run_id

    def record_plan(self, run_id: str, plan: Plan) -> int:
        """Store a new plan version; tasks it introduces start as planned."""
        plan = redact_record(plan, self.redactor)
        with self.tx() as db:
            return self._insert_plan(db, run_id, plan)

    def _insert_plan(self, db: sqlite3.Connection, run_id: str, plan: Plan) -> int:
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
            old = self._run_row(db, run_id).state
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

    def finish_attempt(
        self, run_id: str, attempt_id: str, result: WorkerResult, tree: str | None = None
    ) -> None:
        """Store the worker's result; the patch goes in content-addressed, once. ``tree`` (the
        gate's tree of the patch on its base) is kept only when the patch is stored as it was:
        a masked patch is no longer the one that tree was built from.

        A secret the patch adds is masked in the stored patch, hidden in everything else of the
        result (log, transcript: a worker that wrote it may also have printed it) and recorded
        as a ``held_for_person`` finding (path, line, kind; never the value).
        """
        findings = _patch_secrets(result.patch, self.redactor)
        if findings != []:
            tree = None
        if findings is None:  # malformed: refused by the gate, stored for display only
            result = result.model_copy(update={"patch": self.redactor.redact_bytes(result.patch)})
            findings = []
        elif findings:
            result = result.model_copy(update={"patch": mask_patch(result.patch, findings)})
        redactor = self.redactor
        for finding in findings:
            for value in finding.values:
                redactor = redactor.with_secret(value, finding.kind)
        digest = result.patch_digest() if result.patch else None
        body = redact_record(result.model_copy(update={"patch": b""}), redactor)
        body_json = body.model_dump_json()
        with self.tx() as db:
            if digest:
                db.execute("INSERT OR IGNORE INTO patches VALUES (?, ?)", (digest, result.patch))
            db.execute(
                "UPDATE attempts SET ended_at=?, status=?, result_json=?, patch_digest=?, "
                "patch_tree=? WHERE id=?",
                (_now(), result.status, body_json, digest, tree, attempt_id),
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
            if findings:
                held: list[JsonValue] = [
                    {"path": f.path, "line": f.line, "kind": f.kind} for f in findings
                ]
                data: dict[str, JsonValue] = {"reason": "secret", "findings": held}
                self._event(db, run_id, "held_for_person", data, task_id, attempt_id)

    def record_calls(
        self,
        run_id: str,
        calls: Sequence[ModelCall],
        *,
        task_id: str | None = None,
        attempt_id: str | None = None,
    ) -> None:
        """Store model calls (role, model, tokens, latency, cost, prompt digest): one ``model_call``
        event each, the only record of them (``model_calls`` reads them back)."""
        if not calls:
            return
        with self.tx() as db:
            for c in calls:
                data = c.model_dump(mode="json")
                data["at"] = c.at or _now()
                self._event(db, run_id, "model_call", data, task_id=task_id, attempt_id=attempt_id)

    def record_transcript(
        self,
        run_id: str,
        role: str,
        entries: Sequence[TranscriptEntry],
        *,
        task_id: str | None = None,
        attempt_id: str | None = None,
    ) -> None:
        """Store a planner's or reviewer's conversation (a worker's lives in its result)."""
        if entries:
            data: dict[str, JsonValue] = {
                "role": role,
                "entries": [e.model_dump(mode="json") for e in entries],
            }
            self.event(run_id, "transcript", data, task_id=task_id, attempt_id=attempt_id)

    def update_config(self, run_id: str, config_json: str, changed: dict[str, JsonValue]) -> None:
        """A person changed a run's settings (e.g. a higher budget to resume with)."""
        config_json = self._redact_json_text(config_json)
        with self.tx() as db:
            self._run_row(db, run_id)
            db.execute("UPDATE runs SET config_json=? WHERE id=?", (config_json, run_id))
            self._event(db, run_id, "config_changed", changed)

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
                    self.redactor(check.name),
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
        v = redact_record(v, self.redactor)
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
        self,
        run_id: str,
        build: int,
        chain: list[tuple[str, str, str]],
        tip: str,
        suite_passed: bool | None = None,
    ) -> None:
        """Record one integration build: (task, attempt, commit) in order, and its tip (and
        the suite's verdict on it when that is known already)."""
        with self.tx() as db:
            for pos, (task_id, attempt_id, commit) in enumerate(chain):
                db.execute(
                    "INSERT INTO integrations (run_id, build, position, task_id, attempt_id, "
                    "commit_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, build, pos, task_id, attempt_id, commit, _now()),
                )
            db.execute(
                "UPDATE runs SET integration_commit=?, suite_passed=? WHERE id=?",
                (tip, None if suite_passed is None else int(suite_passed), run_id),
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

    def mark_suite(self, run_id: str, commit: str, passed: bool) -> None:
        """A suite result already recorded for ``commit`` becomes the run's, if it is the tip."""
        with self.tx() as db:
            db.execute(
                "UPDATE runs SET suite_passed=? WHERE id=? AND integration_commit=?",
                (int(passed), run_id, commit),
            )

    def record_suite_trust(self, tree: str, probe: CheckResult, broken: list[str]) -> None:
        """One sensitivity probe of the suite ``probe.name`` on base tree ``tree``: the suite is
        sensitive when it failed with ``broken`` deliberately broken."""
        with self.tx() as db:
            db.execute(
                "INSERT INTO suite_trust (tree, command, sensitive, output, duration_s, "
                "broken_json, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    tree,
                    probe.name,
                    int(not probe.passed),
                    self.redactor(probe.output[-8000:]),
                    probe.duration_s,
                    json.dumps(broken),
                    _now(),
                ),
            )

    def suite_trust(self, tree: str, command: str) -> CheckResult | None:
        """The probe that proved ``command`` sensitive on ``tree``, if one ever did."""
        row = self.db.execute(
            "SELECT output, duration_s FROM suite_trust WHERE tree=? AND command=? AND sensitive=1 "
            "ORDER BY id DESC LIMIT 1",
            (tree, command),
        ).fetchone()
        if row is None:
            return None
        return CheckResult(
            name=command,
            kind="suite_probe",
            passed=False,
            output=row["output"],
            duration_s=row["duration_s"],
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
