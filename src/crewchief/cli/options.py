"""Options several commands share, declared once: a frozen dataclass whose fields are typer
parameters, spliced into a command's signature by :func:`takes`.

``plan`` and ``run`` both say what to change (a goal, or a recipe with its arguments); each
declares one ``change: ChangeOptions`` parameter instead of repeating ten options.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from crewchief.errors import UserError

if TYPE_CHECKING:
    from crewchief.usecase import Change


@dataclass(frozen=True)
class ChangeOptions:
    """What to change: a goal for the manager, or a deterministic recipe and its arguments."""

    goal: Annotated[
        str | None, typer.Argument(metavar="GOAL", help="What to change (the manager plans it).")
    ] = None
    focus: Annotated[
        list[str], typer.Option("--focus", metavar="PATH", help="Paths the change is about.")
    ] = field(default_factory=list)
    recipe: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Deterministic recipe: codemod, command."),
    ] = None
    lang: Annotated[
        str | None, typer.Option(metavar="LANG", help="codemod: language of the pattern.")
    ] = None
    pattern: Annotated[
        str | None, typer.Option(metavar="PATTERN", help="codemod: ast-grep pattern.")
    ] = None
    rewrite: Annotated[
        str | None, typer.Option(metavar="TEMPLATE", help="codemod: rewrite template.")
    ] = None
    command: Annotated[
        str | None,
        typer.Option(metavar="SHELL", help="command: shell command; {files} = the files."),
    ] = None
    split: Annotated[
        str | None,
        typer.Option(metavar="file|dir|package", help="One task per file, dir or package."),
    ] = None
    paths: Annotated[
        list[str], typer.Option("--path", metavar="GLOB", help="Limit to these paths or globs.")
    ] = field(default_factory=list)
    arg: Annotated[
        list[str],
        typer.Option("--arg", metavar="KEY=VALUE", help="Extra recipe argument (repeatable)."),
    ] = field(default_factory=list)

    def change(self, plan_file: Path | None = None) -> Change:
        """The core's ``Change``: the recipe options as its arguments (``--arg`` values as JSON
        where they parse); UserError for an ``--arg`` that is not KEY=VALUE."""
        from crewchief.usecase import Change

        return Change(
            goal=self.goal,
            focus=tuple(self.focus),
            recipe=self.recipe,
            recipe_args=self._recipe_args(),
            plan_file=plan_file,
        )

    def _recipe_args(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "lang": self.lang,
            "pattern": self.pattern,
            "rewrite": self.rewrite,
            "split": self.split,
            "command": self.command,
            "paths": list(self.paths) or None,
        }
        for item in self.arg:
            key, sep, value = item.partition("=")
            if not sep:
                raise UserError(f"--arg {item!r}: expected KEY=VALUE")
            try:
                found[key] = json.loads(value)
            except json.JSONDecodeError:
                found[key] = value
        return {k: v for k, v in found.items() if v is not None}


F = TypeVar("F", bound=Callable[..., Any])


def takes(name: str, options: type[Any]) -> Callable[[F], F]:
    """Give the command's ``name`` parameter an ``options`` dataclass, whose fields become the
    command's own parameters (in their order, before the command's other ones)."""
    hints = typing.get_type_hints(options, include_extras=True)
    spliced = [
        inspect.Parameter(
            f.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=hints[f.name],
            default=f.default_factory()
            if f.default_factory is not dataclasses.MISSING
            else f.default,
        )
        for f in dataclasses.fields(options)
    ]
    names = [p.name for p in spliced]

    def decorate(command: F) -> F:
        own = inspect.signature(command, eval_str=True).parameters
        rest = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own.values() if p.name != name
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            bundled = options(**{n: kwargs.pop(n) for n in names})
            return command(**{name: bundled}, **kwargs)

        params = [*spliced, *rest]
        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return typing.cast(F, wrapper)

    return decorate
