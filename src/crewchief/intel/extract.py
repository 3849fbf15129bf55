"""Source bytes in, definitions and references out: one tree-sitter parse and one query per file.

Pure and picklable: ``extract`` is what the index runs in its worker processes, and it returns
plain tuples (cheap to pickle and to insert into SQLite), not records.
"""

from __future__ import annotations

import inspect
import re
from bisect import bisect_right
from dataclasses import dataclass

from tree_sitter import Node, QueryCursor

from crewchief.intel.languages import LanguageSpec, compiled, node_text, spec_named

#: (ordinal, kind, name, qualname, line_start, line_end, signature, docstring, public)
DefRow = tuple[int, str, str, str, int, int, str, str, bool]
#: (scope ordinal or -1 at module level, name, kind, first line, count)
RefRow = tuple[int, str, str, int, int]

MAX_SIGNATURE_CHARS = 400
MAX_DOCSTRING_CHARS = 2000
#: Bytes of a header read before collapsing whitespace (a body-less type can be long).
_MAX_HEADER_BYTES = 4 * MAX_SIGNATURE_CHARS
_MEMBER_CONTAINERS = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
_FUNCTIONS = frozenset({"function", "method"})
_STRING_QUOTES = re.compile(r"^[rbuf]*('''|\"\"\"|'|\")(.*)\1$", re.DOTALL | re.IGNORECASE)
_COMMENT_MARKS = re.compile(r"^\s*(/\*\*?|\*/|///?!?|//|\*|#)")


@dataclass(frozen=True, slots=True)
class FileFacts:
    """Everything the index stores about one file's content."""

    defs: tuple[DefRow, ...]
    refs: tuple[RefRow, ...]
    has_error: bool


@dataclass(slots=True)
class _Open:
    end: int
    kind: str
    qualname: str
    public: bool
    ordinal: int
    node: Node


def extract(source: bytes, language: str) -> FileFacts:
    """Parse ``source`` as ``language`` and return its definitions and references.

    References are deduplicated per (enclosing definition, name, kind) with the first line and a
    count (in no particular order); a definition's own name is never a reference.
    """
    spec = spec_named(language)
    parser, query = compiled(language)
    tree = parser.parse(source)
    captures = QueryCursor(query).captures(tree.root_node)
    items: list[tuple[int, int, str, Node, bool]] = []
    ref_lists: list[tuple[str, list[Node]]] = []
    for capture, nodes in captures.items():
        group, _, kind = capture.partition(".")
        if group == "ref":
            ref_lists.append((kind, nodes))
        else:
            items.extend((n.start_byte, -n.end_byte, kind, n, group == "scope") for n in nodes)
    items.sort(key=lambda item: (item[0], item[1]))
    defs, spans, name_starts = _definitions(spec, items, source)
    refs = _references(ref_lists, spans, name_starts, source)
    return FileFacts(tuple(defs), tuple(refs), tree.root_node.has_error)


def _definitions(
    spec: LanguageSpec, items: list[tuple[int, int, str, Node, bool]], source: bytes
) -> tuple[list[DefRow], list[tuple[int, int, int]], set[int]]:
    """Definitions in document order, their (start, end, ordinal) byte spans, name offsets."""
    defs: list[DefRow] = []
    spans: list[tuple[int, int, int]] = []
    name_starts: set[int] = set()
    stack: list[_Open] = []
    for start, neg_end, kind, node, is_scope in items:
        while stack and stack[-1].end <= start:
            stack.pop()
        parent = stack[-1] if stack else None
        if is_scope:
            name = _impl_name(node)
            qual = f"{parent.qualname}.{name}" if parent else name
            stack.append(_Open(-neg_end, kind, qual, parent.public if parent else True, -1, node))
            continue
        name_node = node.child_by_field_name("name") or node.child_by_field_name("key")
        if name_node is None:
            continue
        name_starts.add(name_node.start_byte)
        row, outer = _definition(spec, node, node_text(name_node), kind, parent, source, len(defs))
        defs.append(row)
        spans.append((outer.start_byte, outer.end_byte, row[0]))
        stack.append(_Open(-neg_end, row[1], row[3], row[8], row[0], node))
    return defs, spans, name_starts


def _definition(
    spec: LanguageSpec,
    node: Node,
    name: str,
    kind: str,
    parent: _Open | None,
    source: bytes,
    ordinal: int,
) -> tuple[DefRow, Node]:
    """One definition's row, and the outermost node that belongs to it (decorators, export)."""
    parent_kind = parent.kind if parent else None
    if node.type == "type_spec":
        kind = _go_type_kind(node)
    elif kind == "function" and parent_kind in _MEMBER_CONTAINERS:
        kind = "method"
    container = _go_receiver(node) if node.type == "method_declaration" else None
    if container is not None:
        qualname = f"{container}.{name}"
    else:
        qualname = f"{parent.qualname}.{name}" if parent else name
    public = spec.exported(node, name, parent_kind, parent.node if parent else None)
    if parent is not None:
        public = public and parent.public and parent_kind not in _FUNCTIONS
    outer = _outermost_wrapper(spec, node)
    doc_start, comment_doc = _leading_comments(spec, outer)
    doc = _python_docstring(node) if spec.python_docstrings else comment_doc
    row = (
        ordinal,
        kind,
        name,
        qualname,
        min(doc_start, outer.start_point.row) + 1,
        outer.end_point.row + 1,
        _signature(node, source),
        doc[:MAX_DOCSTRING_CHARS],
        public,
    )
    return row, outer


def _references(
    ref_lists: list[tuple[str, list[Node]]],
    spans: list[tuple[int, int, int]],
    name_starts: set[int],
    source: bytes,
) -> list[RefRow]:
    """Attribute each captured name to its innermost enclosing definition and deduplicate.

    Capture lists are not in document order, so each reference finds its scope by bisecting the
    sorted definition spans and walking up the nesting until a span contains it.
    """
    spans = sorted(spans)
    starts = [span[0] for span in spans]
    ends = [span[1] for span in spans]
    ordinals = [span[2] for span in spans]
    parents = _span_parents(spans)
    seen: dict[tuple[int, bytes, str], list[int]] = {}
    for kind, nodes in ref_lists:
        for node in nodes:
            start = node.start_byte
            if start in name_starts:
                continue
            i = bisect_right(starts, start) - 1
            while i >= 0 and ends[i] <= start:
                i = parents[i]
            key = (ordinals[i] if i >= 0 else -1, source[start : node.end_byte], kind)
            entry = seen.get(key)
            if entry is None:
                seen[key] = [node.start_point.row + 1, 1]
            else:
                entry[1] += 1
    return [
        (scope, name.decode("utf-8", errors="replace"), kind, line, count)
        for (scope, name, kind), (line, count) in seen.items()
    ]


def _span_parents(spans: list[tuple[int, int, int]]) -> list[int]:
    """For spans sorted by start, the index of each one's innermost enclosing span (or -1)."""
    parents: list[int] = []
    stack: list[int] = []
    for start, _, _ in spans:
        while stack and spans[stack[-1]][1] <= start:
            stack.pop()
        parents.append(stack[-1] if stack else -1)
        stack.append(len(parents) - 1)
    return parents


def _outermost_wrapper(spec: LanguageSpec, node: Node) -> Node:
    outer = node
    while (up := outer.parent) is not None and up.type in spec.wrappers:
        if spec.wrappers[up.type] and up.named_child_count > 1:
            break
        outer = up
    return outer


def _leading_comments(spec: LanguageSpec, outer: Node) -> tuple[int, str]:
    """First row of the comments and attributes right above ``outer``, and the comments' text."""
    first_row = outer.start_point.row
    texts: list[str] = []
    sibling = outer.prev_named_sibling
    while sibling is not None and sibling.end_point.row >= first_row - 1:
        if sibling.type in spec.comment_types:
            texts.append(node_text(sibling))
        elif sibling.type not in spec.skip_before:
            break
        first_row = sibling.start_point.row
        sibling = sibling.prev_named_sibling
    if not texts:
        return first_row, ""
    lines = [
        _COMMENT_MARKS.sub("", line).strip() for t in reversed(texts) for line in t.split("\n")
    ]
    return first_row, "\n".join(line.removesuffix("*/").strip() for line in lines).strip()


def _python_docstring(node: Node) -> str:
    body = node.child_by_field_name("body")
    if body is None or body.named_child_count == 0:
        return ""
    first = body.named_child(0)
    if first.type != "expression_statement" or first.named_child_count != 1:
        return ""
    string = first.named_child(0)
    if string.type != "string":
        return ""
    match = _STRING_QUOTES.match(node_text(string))
    return inspect.cleandoc(match.group(2)) if match else ""


def _signature(node: Node, source: bytes) -> str:
    """The definition's header: its text up to the body, whitespace collapsed."""
    start = node
    body = node.child_by_field_name("body")
    if node.type == "variable_declarator":
        start = node.parent or node
        value = node.child_by_field_name("value")
        body = value.child_by_field_name("body") if value else None
    elif node.type == "type_spec":
        return _go_type_signature(node)
    elif node.type == "pair":
        value = node.child_by_field_name("value")
        body = value.child_by_field_name("body") if value else None
    end = start.end_byte
    if body is not None:
        end = body.start_byte
        colon = body.prev_sibling  # Python: stop at the header's colon, before any comment
        while colon is not None and colon.type == "comment":
            colon = colon.prev_sibling
        if colon is not None and colon.type == ":":
            end = colon.start_byte
    raw = source[start.start_byte : min(end, start.start_byte + _MAX_HEADER_BYTES)]
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    text = text.removesuffix("=>").rstrip().removesuffix(":").removesuffix(";").rstrip()
    if node.type == "method_declaration" and text.startswith("@"):
        text = re.sub(r"^(@[\w.]+(\([^()]*\))?\s+)+", "", text)
    return text[:MAX_SIGNATURE_CHARS]


def _go_type_kind(node: Node) -> str:
    shape = node.child_by_field_name("type")
    return {"struct_type": "struct", "interface_type": "interface"}.get(
        shape.type if shape else "", "type"
    )


def _go_type_signature(node: Node) -> str:
    shape = node.child_by_field_name("type")
    name = node_text(node.child_by_field_name("name"))
    if shape is not None and shape.type in ("struct_type", "interface_type"):
        return f"type {name} {shape.type.removesuffix('_type')}"
    return " ".join(f"type {node_text(node)}".split())[:MAX_SIGNATURE_CHARS]


def _go_receiver(node: Node) -> str | None:
    receiver = node.child_by_field_name("receiver")
    if receiver is None or receiver.named_child_count == 0:
        return None
    shape = receiver.named_child(0).child_by_field_name("type")
    while shape is not None and shape.type in ("pointer_type", "generic_type"):
        shape = (
            shape.named_child(0)
            if shape.type == "pointer_type"
            else shape.child_by_field_name("type")
        )
    return node_text(shape) or None


def _impl_name(node: Node) -> str:
    shape = node.child_by_field_name("type")
    while shape is not None and shape.type in ("generic_type", "scoped_type_identifier"):
        shape = shape.child_by_field_name("type" if shape.type == "generic_type" else "name")
    return node_text(shape) or "impl"
