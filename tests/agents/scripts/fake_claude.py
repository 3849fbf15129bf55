"""Stands in for `claude -p --output-format json`: edits, then prints one result object."""

import json
import sys
from pathlib import Path

prompt = sys.stdin.read()
Path("src/a.py").write_text("print('from claude')\n")
print(
    json.dumps(
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "num_turns": 3,
            "result": "Changed src/a.py to print a greeting.\nASSUMPTION: Python 3",
            "total_cost_usd": 0.0123,
            "usage": {"input_tokens": 1200, "output_tokens": 340, "cache_read_input_tokens": 800},
            "modelUsage": {"claude-sonnet-4-5": {"inputTokens": 1200}},
            "prompt_chars": len(prompt),
        }
    )
)
