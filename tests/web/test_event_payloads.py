"""The ledger's events are typed: one payload per kind, checked when written, read back typed,
and the published events schema describes what ``log --json`` prints."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from crewchief.ledger import events
from crewchief.ledger.store import Ledger
from crewchief.records import EventKind
from repo_helpers import crewchief

from .runs import Run

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "json-schema" / "events.json"


def kinds_of(payload: type) -> set[str]:
    return set(typing.get_args(payload.model_fields["kind"].annotation))


def test_every_event_kind_has_exactly_one_payload() -> None:
    members = typing.get_args(typing.get_args(events.EventPayload)[0])
    claimed = [k for m in members for k in kinds_of(m)]
    assert sorted(claimed) == sorted(typing.get_args(EventKind))


def test_an_event_whose_data_does_not_fit_its_kind_is_not_written(run: Run) -> None:
    ledger = run.ledger()
    try:
        before = len(ledger.event_records(run.run_id))
        with pytest.raises(ValidationError):
            ledger.event(run.run_id, "survivors_killed", {"count": "many"})
        with pytest.raises(ValidationError):
            ledger.event(run.run_id, "queued", {"tasks": ["t1"], "surprise": 1})
        assert len(ledger.event_records(run.run_id)) == before
    finally:
        ledger.close()


@pytest.mark.parametrize("which", ["demo_run", "rich_demo_run"])
def test_every_event_of_a_real_run_reads_back_as_its_payload(
    which: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(which)
    ledger = Ledger.existing(run.repo)
    try:
        records = ledger.event_records(run.run_id)
        typed = [events.payload(e.kind, e.data) for e in records]
    finally:
        ledger.close()
    assert [p.kind for p in typed] == [e.kind for e in records]
    moves = [p for p in typed if isinstance(p, events.RunStateChanged)]
    assert moves[-1].new == "awaiting_approval"


def test_what_log_json_prints_validates_against_the_published_events_schema(
    rich_demo_run: Run,
) -> None:
    schema = json.loads(PUBLISHED.read_text())
    proc = crewchief(rich_demo_run.repo, "log", "--json")
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    assert printed
    for event in printed:
        data = dict(event["data"])
        if "kind" in data:
            data["of_kind"] = data.pop("kind")
        jsonschema.validate({**data, "kind": event["kind"]}, schema)
