"""Every command's ``--help`` is written for people: value types in words (TEXT, PATH), never a
Python type; every option explained; an example at the end. Walked in-process."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from crewchief.cli import app
from crewchief.cli.examples import EXAMPLES
from crewchief.cli.helptext import human_type

#: What typer prints for a parameter nobody named: ``<str>``, ``<list[str]>``, ``<int range>``.
PYTHON_TYPE = re.compile(r"<[a-z_]+(\[[^\]]*\])?( range)?>")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_has_every_command_people_use() -> None:
    assert {"init", "plan", "run", "status", "review", "merge", "serve", "demo"} <= set(COMMANDS)
    assert len(COMMANDS) >= 15


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_help_names_no_python_type(name: str) -> None:
    shown = _help(*([name] if name else []))
    assert not PYTHON_TYPE.search(shown), f"crewchief {name} --help shows a Python type:\n{shown}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_and_argument_has_a_help_text(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    unexplained = [p.name for p in command.params if not getattr(p, "help", None)]
    assert unexplained == [], f"crewchief {name}: no help for {unexplained}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_ends_its_help_with_an_example(name: str) -> None:
    shown = _help(name)
    assert name in EXAMPLES, f"crewchief {name} has no example in cli/examples.py"
    assert "Examples:" in shown and f"crewchief {name}" in shown.split("Examples:")[1]


def test_examples_name_only_commands_that_exist() -> None:
    assert set(EXAMPLES) <= set(COMMANDS)


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("<str>", "TEXT"),
        ("<list[str]>", "TEXT"),
        ("<int range>", "INTEGER"),
        ("<float>", "NUMBER"),
        ("<path>", "PATH"),
        ("<file|dir|package>", "file|dir|package"),
    ],
)
def test_typer_type_labels_read_as_words(label: str, shown: str) -> None:
    assert human_type(label) == shown
