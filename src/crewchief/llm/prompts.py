"""Prompts are data: Jinja2 templates in ``prompts/``, rendered with strict undefined variables.

A rendered prompt carries the sha256 digest of the template sources it came from, which every
model call records, so a transcript can be traced to the exact prompt version that produced it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

_PACKAGE = "crewchief.llm"
_DIR = "prompts"


@dataclass(frozen=True)
class Prompt:
    """A role's instructions (system prompt) and first user message, with the templates' digest."""

    system: str
    user: str
    digest: str


def render_pair(role: str, /, *also: str, **variables: Any) -> Prompt:
    """Render ``<role>_system.j2`` and ``<role>_user.j2`` with ``variables``; the digest also
    covers the templates named in ``also`` (follow-up messages of the same conversation).

    An undefined variable raises (StrictUndefined): a prompt never silently loses a section.
    """
    names = (f"{role}_system.j2", f"{role}_user.j2")
    return Prompt(
        system=render(names[0], **variables),
        user=render(names[1], **variables),
        digest=digest(*names, *also),
    )


def render(name: str, **variables: Any) -> str:
    """One template rendered with ``variables``."""
    return _env().get_template(name).render(**variables).strip() + "\n"


def digest(*names: str) -> str:
    """``sha256:<hex>`` over the named templates' sources (name and text, in the given order)."""
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode() + b"\0" + source(name).encode() + b"\0")
    return "sha256:" + h.hexdigest()


def source(name: str) -> str:
    """A template's text as shipped in the package."""
    return resources.files(_PACKAGE).joinpath(_DIR, name).read_text(encoding="utf-8")


@functools.cache
def _env() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: source(name)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
