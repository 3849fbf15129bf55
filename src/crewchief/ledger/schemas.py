"""The JSON Schemas of the ``--json`` outputs, generated from the read models in ``views``
(and from the event payloads in ``events``).

They are published under ``docs/json-schema/`` (``docs/json.md`` describes them); a test fails
when a published file and the models disagree. Regenerate them with::

    python -m crewchief.ledger.schemas docs/json-schema
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from crewchief.ledger import events
from crewchief.ledger.views import LiveState, LogEvent, RunStatus, RunSummary, TaskTranscripts

#: Each published file: what prints it, and the type of what it prints.
SCHEMAS: dict[str, tuple[str, TypeAdapter[Any]]] = {
    "status.json": ("crewchief status --json", TypeAdapter(RunStatus)),
    "status-all.json": ("crewchief status --all --json", TypeAdapter(list[RunSummary])),
    "log.json": ("crewchief log --json", TypeAdapter(list[LogEvent])),
    "show.json": ("crewchief show TASK --json", TypeAdapter(TaskTranscripts)),
    "live-state.json": ("GET /runs/{run}/state (the review page's poll)", TypeAdapter(LiveState)),
    "events.json": ("the data of a ledger event, by its kind (log --json)", events.adapter()),
}


def schema_text(name: str) -> str:
    """The published text of schema ``name``: the output's JSON Schema, as serialised."""
    title, adapter = SCHEMAS[name]
    schema = {"title": title, **adapter.json_schema(mode="serialization")}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    """Write every schema into ``directory``; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = directory / name
        path.write_text(schema_text(name))
        written.append(path)
    return written


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/json-schema"))
