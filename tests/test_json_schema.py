"""The ``--json`` outputs have a published JSON Schema, generated from the read models: the
published files are the models' schemas, and what the CLI prints validates against them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from crewchief.ledger import schemas
from crewchief.lifecycle import TaskState
from crewchief.records import ModelCall
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
