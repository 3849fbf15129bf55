"""The ``--json`` outputs have a published JSON Schema, generated from the read models: the
published files are the models' schemas, and what the CLI prints validates against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from crewchief.ledger import schemas
from crewchief.lifecycle import TaskState
from crewchief.records import (
    Attempt,
    CheckResult,
    HunkVerdict,
    ModelCall,
    TranscriptEntry,
    Usage,
    Verdict,
    WorkerResult,
)
from ledger_runs import crewchief_at, recorded_run, task

PUBLISHED = Path(__file__).resolve().parent.parent / "docs" / "json-schema"


@pytest.mark.parametrize("name", sorted(schemas.SCHEMAS))
def test_the_published_schema_is_the_models_schema(name: str) -> None:
    published = PUBLISHED / name
    assert published.exists(), f"not published: python -m crewchief.ledger.schemas {PUBLISHED}"
    assert published.read_text() == schemas.schema_text(name), (
        f"{published} is out of date with the read models: "
        "regenerate it with python -m crewchief.ledger.schemas docs/json-schema"
    )


def test_every_published_schema_is_described_in_docs_json_md() -> None:
    described = (PUBLISHED.parent / "json.md").read_text()
    for name in schemas.SCHEMAS:
        assert f"json-schema/{name}" in described


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["status", "--json"], "status.json"),
        (["status", "--all", "--json"], "status-all.json"),
        (["log", "--json"], "log.json"),
        (["show", "t1", "--json"], "show.json"),
    ],
)
def test_what_the_cli_prints_validates_against_its_published_schema(
    tmp_path: Path, args: list[str], name: str
) -> None:
    repo, ledger, run_id = recorded_run(tmp_path / "repo", [task("t1", "a.py")])
    ledger.set_task_state(run_id, "t1", TaskState.READY)
    ledger.record_calls(run_id, [ModelCall(role="manager", model="big", cost_usd=0.01)])
    ledger.close()
    printed = json.loads(crewchief_at(repo, 160, *args))
    schema = json.loads((PUBLISHED / name).read_text())
    jsonschema.validate(printed, schema)


def test_what_show_prints_of_a_reviewed_attempt_validates_against_its_published_schema(
    tmp_path: Path,
) -> None:
    """``show --json`` of a task with a finished attempt: its result (usage, calls, transcript),
    a check with its output, a verdict with a hunk note, and the reviewer's conversation."""
    repo, ledger, run_id = recorded_run(tmp_path / "repo", [task("t1", "a.py")])
    base = ledger.run(run_id).base_commit
    attempt = Attempt(
        id=f"{run_id}.t1.1",
        run_id=run_id,
        task_id="t1",
        number=1,
        base_commit=base,
        backend="llm:worker",
    )
    ledger.start_attempt(attempt)
    call = ModelCall(role="worker", model="small", input_tokens=10, cost_usd=0.001)
    said = (
        TranscriptEntry(kind="prompt", content="Change a.py."),
        TranscriptEntry(kind="tool_call", tool="edit", content="a.py"),
    )
    result = WorkerResult(
        status="ok",
        patch=b"diff --git a/a.py b/a.py\n",
        rationale="changed it",
        assumptions=("nobody else reads a.py",),
        usage=Usage(model="small", input_tokens=10, cost_usd=0.001),
        calls=(call,),
        transcript=said,
    )
    ledger.finish_attempt(run_id, attempt.id, result)
    check = CheckResult(name="scope", kind="scope", passed=True, output="ok")
    ledger.record_check(run_id, check, task_id="t1", attempt_id=attempt.id)
    hunk = HunkVerdict(path="a.py", hunk=1, ok=False, note="look again")
    verdict = Verdict(decision="approve", reviewer="llm:manager", reasons=("fine",), hunks=(hunk,))
    ledger.record_verdict(run_id, "t1", attempt.id, verdict)
    ledger.record_transcript(run_id, "reviewer", said, task_id="t1", attempt_id=attempt.id)
    ledger.close()
    printed = json.loads(crewchief_at(repo, 160, "show", "t1", "--json"))
    assert [a["result"]["transcript"] for a in printed["attempts"]] == [
        [e.model_dump(mode="json") for e in said]
    ]
    assert [r["role"] for r in printed["reviews"]] == ["reviewer"]
    jsonschema.validate(printed, json.loads((PUBLISHED / "show.json").read_text()))
