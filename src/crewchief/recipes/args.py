"""Reading a recipe's arguments (``ChangeRequest.recipe_args``, plain JSON) into typed values.

Every failure is a UserError whose one-line message names the recipe and the argument, so a typo
on the command line is reported before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, cast

from pydantic import JsonValue

from crewchief.errors import UserError

Split = Literal["file", "dir", "package"]
SPLITS: tuple[Split, ...] = ("file", "dir", "package")


class RecipeArgs:
    """Typed, validated access to one recipe's arguments; unknown argument names are refused."""

    def __init__(self, recipe: str, args: Mapping[str, JsonValue], known: tuple[str, ...]) -> None:
        unknown = sorted(set(args) - set(known))
        if unknown:
            raise UserError(
                f"{recipe}: unknown argument {unknown[0]!r} (expected: {', '.join(known)})"
            )
        self.recipe = recipe
        self._args = args

    def required_str(self, key: str) -> str:
        """A non-blank string argument that must be present."""
        value = self._args.get(key)
        if value is None:
            raise UserError(f"{self.recipe}: missing argument {key!r}")
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"{self.recipe}: argument {key!r} must be a non-empty string")
        return value

    def optional_str(self, key: str) -> str | None:
        """A non-blank string argument, or None when absent."""
        return None if self._args.get(key) is None else self.required_str(key)

    def str_list(self, key: str) -> tuple[str, ...]:
        """A string or a list of non-blank strings; () when absent."""
        value = self._args.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise UserError(f"{self.recipe}: argument {key!r} must be a string or a list of them")
        return tuple(cast(list[str], items))

    def flag(self, key: str, default: bool) -> bool:
        """A boolean argument; ``default`` when absent."""
        value = self._args.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise UserError(f"{self.recipe}: argument {key!r} must be true or false")
        return value

    def int_list(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        """A list of integers (booleans refused); ``default`` when absent."""
        value = self._args.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value
        ):
            raise UserError(f"{self.recipe}: argument {key!r} must be a list of integers")
        return tuple(cast(list[int], value))

    def split(self) -> Split:
        """The ``split`` argument: how files are grouped into tasks; "package" when absent."""
        value = self._args.get("split", "package")
        for split in SPLITS:
            if value == split:
                return split
        raise UserError(
            f"{self.recipe}: invalid split {value!r} (expected one of: {', '.join(SPLITS)})"
        )
