"""How every command's ``--help`` reads: value types named as people name them (TEXT, INTEGER,
PATH) rather than as Python does (``<str>``, ``<list[str]>``), arguments by their upper-case
name alone, each command's examples (``examples``) at its end."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperOption

from crewchief.cli import examples

#: typer's type labels, as a person reads them.
_HUMAN = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "NUMBER",
    "bool": "BOOLEAN",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIR",
    "dir": "DIR",
}


def human_type(label: str) -> str:
    """``<list[str]>`` → ``TEXT``, ``<int range>`` → ``INTEGER``; choices stay as they are."""
    bare = label.strip("<>").removesuffix(" range")
    if bare.startswith("list[") and bare.endswith("]"):
        bare = bare[len("list[") : -1]
    return _HUMAN.get(bare, bare)  # a choice (a|b) is already words


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the argument's name says what it is; its help says the rest


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        return human_type(self.display_type(ctx))


class HelpCommand(TyperCommand):
    """A typer command whose help names types in words (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _Argument
                param.metavar = param.metavar or (param.name or "value").upper()
            elif type(param) is TyperOption:
                param.__class__ = _Option


def attach(app: typer.Typer) -> None:
    """Every registered command gets ``HelpCommand``'s help and its examples as its epilog."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = HelpCommand
        lines = examples.EXAMPLES.get(examples.command_name(info), ())
        if lines:
            # \b keeps click from re-wrapping the example lines into one paragraph.
            info.epilog = "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)
