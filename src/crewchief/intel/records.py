"""Typed records of the code-intelligence index.

Paths are repository-relative POSIX paths; lines are 1-based and inclusive. Definitions and
references are high-volume (Django has about 40,000 and 220,000), so they are NamedTuples, the
cheapest immutable typed record to create; results handed to other parts of crewchief (a packed
context, a drift report) are frozen pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

SymbolKind = Literal[
    "function", "method", "class", "interface", "struct", "enum", "trait", "type", "macro", "module"
]
RefKind = Literal["call", "name", "import", "type"]


class Definition(NamedTuple):
    """A symbol defined in one file.

    ``qualname`` is the dotted path inside the file (``Class.method``, ``outer.inner``; a Go method
    is ``Receiver.Method``, a Rust ``impl`` member ``Type.method``). ``line_start``..``line_end``
    cover the whole unit an editor would move with it: leading doc comment, decorators or
    attributes, the definition itself. ``signature`` is the header up to the body with whitespace
    collapsed; ``docstring`` the cleaned docstring or leading doc comment ("" if none). ``public``
    follows the language's own export rule (Python: no ``_`` part and not nested in a function).
    """

    path: str
    kind: SymbolKind
    name: str
    qualname: str
    line_start: int
    line_end: int
    signature: str
    docstring: str
    public: bool
    language: str

    @property
    def key(self) -> str:
        """``path::qualname``: the symbol's identity within one snapshot of the repository."""
        return f"{self.path}::{self.qualname}"


class Reference(NamedTuple):
    """The uses of one name from one scope of a file.

    One Reference per (file, enclosing definition, name, kind): ``line`` is the first use and
    ``uses`` the number of uses. ``scope`` is the qualname of the innermost enclosing definition,
    or "" at module level. Names are unresolved: a reference names what it uses, not where that is
    defined (resolution is by name, see ``rank`` and ``packer``).
    """

    path: str
    scope: str
    name: str
    kind: RefKind
    line: int
    uses: int


@dataclass(frozen=True, slots=True)
class UpdateStats:
    """What one index update did. ``parsed`` counts files actually parsed in this update."""

    files: int
    parsed: int
    reused: int
    removed: int
    skipped: int
    seconds: float
