"""The ledger's schema as named migrations, applied once each, in order, inside a transaction.

A migration is never edited once released: a schema change is a new entry at the end.
"""

from __future__ import annotations

import sqlite3
import time

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
    (
        "0003_suite_trust",
        """
        CREATE TABLE suite_trust (
            id INTEGER PRIMARY KEY, tree TEXT NOT NULL, command TEXT NOT NULL,
            sensitive INTEGER NOT NULL, output TEXT NOT NULL, duration_s REAL NOT NULL,
            broken_json TEXT NOT NULL, at REAL NOT NULL
        );
        CREATE INDEX suite_trust_key ON suite_trust(tree, command);
        """,
    ),
    (
        # Every call was written twice, as a row here and as its model_call event; the events
        # are the one record now, so the copy goes (it holds nothing the events do not).
        "0004_model_calls_are_events",
        """
        DROP INDEX model_calls_run;
        DROP TABLE model_calls;
        """,
    ),
    (
        # The gate's tree of an attempt's patch on its base: integration commits it as it is.
        "0005_attempt_patch_tree",
        "ALTER TABLE attempts ADD COLUMN patch_tree TEXT;",
    ),
]


def apply_migrations(db: sqlite3.Connection) -> list[str]:
    """Apply the migrations ``db`` has not had yet; return their names."""
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, at REAL)")
    done = {r[0] for r in db.execute("SELECT name FROM migrations")}
    applied = []
    for name, sql in MIGRATIONS:
        if name not in done:
            for stmt in _statements(sql):
                db.execute(stmt)
            db.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
            applied.append(name)
    return applied


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
