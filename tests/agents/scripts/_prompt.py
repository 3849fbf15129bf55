"""Shared by the test agents: read the prompt the way the template hands it over."""

import sys
from pathlib import Path


def read_prompt() -> str:
    """argv[1] is how the prompt arrives: 'stdin', 'file <path>' or 'arg <text>'."""
    how = sys.argv[1]
    if how == "stdin":
        return sys.stdin.read()
    if how == "file":
        return Path(sys.argv[2]).read_text()
    return sys.argv[2]


def directives(prompt: str, word: str) -> list[list[str]]:
    """Lines of the prompt that start with '@<word> ', split into (path, rest)."""
    found = []
    for line in prompt.splitlines():
        if line.startswith(f"@{word} "):
            found.append(line[len(word) + 2 :].split(" ", 1))
    return found
