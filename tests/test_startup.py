"""Start-up is a feature: the commands people type most load none of the heavy libraries.

Asserted by what a fresh interpreter has imported, not by the clock (bench/cli.py times it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from repo_helpers import make_repo

#: Libraries that cost tenths of a second each to import; only the commands using them load them.
HEAVY = (
    "numpy",
    "scipy",
    "pydantic_ai",
    "openai",
    "anthropic",
    "starlette",
    "uvicorn",
    "jinja2",
    "pygments",
    "tree_sitter",
    "ast_grep_py",
    "ray",
    "tiktoken",
    "mcp",
)

_PROBE = """
import json, sys
from typer.testing import CliRunner
from crewchief.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read())))
print(json.dumps({"exit": result.exit_code, "loaded": loaded}))
"""


def _loaded_by(args: list[str], cwd: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args", [["--help"], ["status"], ["status", "--json"], ["log"], ["review", "--help"]]
)
def test_everyday_commands_load_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    outcome = _loaded_by(args, repo)
    assert outcome["loaded"] == [], f"crewchief {' '.join(args)} imported {outcome['loaded']}"


def test_every_command_has_an_example_in_its_help() -> None:
    from typer.testing import CliRunner

    from crewchief.cli import app
    from crewchief.cli.examples import command_name

    names = [command_name(info) for info in app.registered_commands]
    assert len(names) >= 15
    for name in names:
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Examples:" in result.output and f"crewchief {name}" in result.output, name
        assert "<list[" not in result.output, f"{name} shows a Python type in its help"
