"""The languages the index understands: file extensions, grammars, queries and per-language rules.

Each language is a ``LanguageSpec``: the data the generic extractor (``extract.py``) needs plus a
few small rules that differ between languages (what is exported, how a Go method names its
receiver, how a Rust ``impl`` names its type). Grammars come from the per-language
``tree-sitter-*`` wheels, which ship compiled parsers and work offline. Queries live in
``queries/*.scm`` beside this module: captures named ``def.<kind>`` are definitions,
``scope.<kind>`` are named containers that are not definitions themselves, ``ref.<kind>`` are
names used.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Language, Node, Parser, Query

_QUERY_DIR = Path(__file__).parent / "queries"

#: (node, name, parent kind or None, parent node or None) -> whether the language exports it.
ExportRule = Callable[[Node, str, "str | None", "Node | None"], bool]


@dataclass(frozen=True)
class LanguageSpec:
    """What the extractor needs to know about one language.

    ``wrappers`` maps a parent node type that belongs to a definition (a decorator list, an
    ``export``, a ``const`` declaration) to whether it only counts when it wraps nothing else.
    ``skip_before`` are sibling types allowed between a doc comment and its definition.
    """

    name: str
    extensions: tuple[str, ...]
    module: str
    grammar_function: str
    query_files: tuple[str, ...]
    exported: ExportRule
    comment_types: frozenset[str] = frozenset({"comment"})
    wrappers: dict[str, bool] = field(default_factory=dict)
    skip_before: frozenset[str] = frozenset()
    python_docstrings: bool = False


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")


def _python_exported(node: Node, name: str, parent_kind: str | None, parent: Node | None) -> bool:
    return (name.startswith("__") and name.endswith("__")) or not name.startswith("_")


def _go_exported(node: Node, name: str, parent_kind: str | None, parent: Node | None) -> bool:
    return name[:1].isupper()


def _rust_exported(node: Node, name: str, parent_kind: str | None, parent: Node | None) -> bool:
    if parent_kind == "trait":
        return True
    if parent is not None and parent.type == "impl_item" and parent.child_by_field_name("trait"):
        return True
    first = node.named_child(0) if node.named_child_count else None
    return first is not None and first.type == "visibility_modifier"


def _java_exported(node: Node, name: str, parent_kind: str | None, parent: Node | None) -> bool:
    if parent_kind == "interface":
        return True
    first = node.named_child(0) if node.named_child_count else None
    if first is None or first.type != "modifiers":
        return False
    words = _text(first).split()
    return "public" in words or "protected" in words


def _js_exported(node: Node, name: str, parent_kind: str | None, parent: Node | None) -> bool:
    if parent_kind is not None:
        private = any(
            c.type == "accessibility_modifier" and _text(c) == "private" for c in node.children
        )
        return not (private or name.startswith(("#", "_")))
    up = node.parent
    while up is not None and up.type in ("lexical_declaration", "variable_declaration"):
        up = up.parent
    return up is not None and up.type == "export_statement"


_JS_WRAPPERS = {
    "export_statement": False,
    "lexical_declaration": True,
    "variable_declaration": True,
}

LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        name="python",
        extensions=(".py", ".pyi"),
        module="tree_sitter_python",
        grammar_function="language",
        query_files=("python",),
        exported=_python_exported,
        wrappers={"decorated_definition": False},
        python_docstrings=True,
    ),
    LanguageSpec(
        name="javascript",
        extensions=(".js", ".jsx", ".mjs", ".cjs"),
        module="tree_sitter_javascript",
        grammar_function="language",
        query_files=("javascript", "javascript_only", "jsx"),
        exported=_js_exported,
        wrappers=_JS_WRAPPERS,
    ),
    LanguageSpec(
        name="typescript",
        extensions=(".ts", ".mts", ".cts"),
        module="tree_sitter_typescript",
        grammar_function="language_typescript",
        query_files=("javascript", "typescript"),
        exported=_js_exported,
        wrappers=_JS_WRAPPERS,
    ),
    LanguageSpec(
        name="tsx",
        extensions=(".tsx",),
        module="tree_sitter_typescript",
        grammar_function="language_tsx",
        query_files=("javascript", "typescript", "jsx"),
        exported=_js_exported,
        wrappers=_JS_WRAPPERS,
    ),
    LanguageSpec(
        name="go",
        extensions=(".go",),
        module="tree_sitter_go",
        grammar_function="language",
        query_files=("go",),
        exported=_go_exported,
        wrappers={"type_declaration": True},
    ),
    LanguageSpec(
        name="rust",
        extensions=(".rs",),
        module="tree_sitter_rust",
        grammar_function="language",
        query_files=("rust",),
        exported=_rust_exported,
        comment_types=frozenset({"line_comment", "block_comment"}),
        skip_before=frozenset({"attribute_item"}),
    ),
    LanguageSpec(
        name="java",
        extensions=(".java",),
        module="tree_sitter_java",
        grammar_function="language",
        query_files=("java",),
        exported=_java_exported,
        comment_types=frozenset({"line_comment", "block_comment"}),
    ),
)

_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}


def spec_named(name: str) -> LanguageSpec:
    """The spec called ``name``; KeyError if there is none."""
    return _BY_NAME[name]


def language_for_path(path: str) -> LanguageSpec | None:
    """The language of a repository path by its extension, or None if the index skips it."""
    dot = path.rfind(".")
    if dot <= path.rfind("/") + 1:
        return None
    return _BY_EXTENSION.get(path[dot:].lower())


def language_family(language: str) -> str:
    """Languages whose code can use each other's definitions share a family."""
    return "javascript" if language in ("javascript", "typescript", "tsx") else language


@functools.cache
def compiled(name: str) -> tuple[Parser, Query]:
    """A parser and the combined definitions+references query for a language (cached per process).

    One combined query matters for speed: running a query costs a walk over the whole tree,
    whatever its patterns, so defs and refs are captured in a single pass.
    """
    spec = _BY_NAME[name]
    grammar = getattr(importlib.import_module(spec.module), spec.grammar_function)()
    language = Language(grammar)
    source = "\n".join((_QUERY_DIR / f"{q}.scm").read_text() for q in spec.query_files)
    return Parser(language), Query(language, source)


def node_text(node: Node | None) -> str:
    """A node's source text decoded as UTF-8 ("" for None)."""
    return _text(node)
