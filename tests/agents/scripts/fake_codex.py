"""Stands in for `codex exec --json -`: edits, printing JSONL events like codex does."""

import json
import sys
from pathlib import Path

sys.stdin.read()
events = [
    {"type": "thread.started", "thread_id": "t1"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": {"id": "i0", "type": "reasoning", "text": "hmm"}},
    {"type": "item.completed", "item": {"id": "i1", "type": "agent_message", "text": "Edited."}},
    {
        "type": "turn.completed",
        "usage": {"input_tokens": 5000, "cached_input_tokens": 4000, "output_tokens": 250},
    },
]
Path("src/a.py").write_text("print('from codex')\n")
for event in events:
    print(json.dumps(event), flush=True)
