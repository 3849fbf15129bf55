"""Start-up is a feature: the commands people type most load none of the heavy libraries.

Asserted by what a fresh interpreter has imported, not by the clock (bench/cli.py times it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger_runs import recorded_run, task

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

#: crewchief's own weight that only some commands need: the driver (orchestrator, executors,
#: worker processes), the doctor, the review page, the MCP server, the sandbox machinery (config
#: used to pull it in), the live table and progress bars, click itself (typer vendors its own).
DRIVER = ("crewchief.run.orchestrate", "crewchief.attempts.executor", "crewchief.attempts.dispatch")
ONLY_SOME = (
    *DRIVER,
    "crewchief.usecase",
    "crewchief.cli.doctor",
    "crewchief.cli.agent_check",
    "crewchief.cli.demo",
    "crewchief.backends",
    "crewchief.host",
    "crewchief.web.app",
    "crewchief.web.pages",
    "crewchief.web.actions",
    "crewchief.intel.index",
    "crewchief.intel.hygiene",
    "crewchief.ledger.report",
    "rich.live",
    "rich.progress",
    "click",
)
#: What a command's ``--help`` needs is typer and rich; not even the typed records (typer itself
#: loads pydantic to parse a command's options; ``crewchief --help`` parses none).
NOT_FOR_HELP = (
    *ONLY_SOME,
    "crewchief.records",
    "crewchief.config",
    "crewchief.ledger.store",
    "crewchief.sandbox.runner",
)

_PROBE = """
import json, sys
from typer.testing import CliRunner
from crewchief.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
watched = json.loads(sys.stdin.read())
loaded = sorted(w for w in watched if any(m == w or m.startswith(w + ".") for m in sys.modules))
print(json.dumps({"exit": result.exit_code, "loaded": loaded}))
"""


@pytest.fixture
def repo_with_a_run(tmp_path: Path) -> Path:
    """A repository whose ledger holds one planned run (what status, log and show read)."""
    repo, _, _ = recorded_run(tmp_path / "repo", [task("t1", "a.py")])
    return repo


def _loaded_by(args: list[str], cwd: Path, watched: tuple[str, ...] = HEAVY) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        input=json.dumps(watched),
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args", [["--help"], ["status"], ["status", "--json"], ["log"], ["review", "--help"]]
)
def test_everyday_commands_load_no_heavy_library(repo_with_a_run: Path, args: list[str]) -> None:
    outcome = _loaded_by(args, repo_with_a_run)
    assert outcome["exit"] == 0
    assert outcome["loaded"] == [], f"crewchief {' '.join(args)} imported {outcome['loaded']}"


@pytest.mark.parametrize(
    "args", [["status"], ["status", "--json"], ["log"], ["status", "--all"], ["show", "t1"]]
)
def test_reading_a_run_loads_neither_the_driver_nor_the_other_faces(
    repo_with_a_run: Path, args: list[str]
) -> None:
    outcome = _loaded_by(args, repo_with_a_run, ONLY_SOME)
    assert outcome["exit"] == 0
    assert outcome["loaded"] == [], f"crewchief {' '.join(args)} imported {outcome['loaded']}"


@pytest.mark.parametrize(
    ("args", "watched"),
    [
        (["--help"], (*NOT_FOR_HELP, "pydantic")),
        (["run", "--help"], NOT_FOR_HELP),
        (["serve", "--help"], NOT_FOR_HELP),
    ],
)
def test_help_loads_no_record_no_configuration_no_ledger(
    tmp_path: Path, args: list[str], watched: tuple[str, ...]
) -> None:
    outcome = _loaded_by(args, tmp_path, watched)
    assert outcome["exit"] == 0
    assert outcome["loaded"] == [], f"crewchief {' '.join(args)} imported {outcome['loaded']}"


@pytest.mark.parametrize(
    "args", [["status", "--json"], ["log", "--json"], ["status", "--all", "--json"]]
)
def test_json_output_loads_no_terminal_rendering(repo_with_a_run: Path, args: list[str]) -> None:
    outcome = _loaded_by(args, repo_with_a_run, ("crewchief.cli.render", "rich.table", "rich.live"))
    assert outcome["exit"] == 0
    assert outcome["loaded"] == [], f"crewchief {' '.join(args)} imported {outcome['loaded']}"
