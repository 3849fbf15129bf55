"""Reading what an external coding CLI printed: its last message (the rationale, with the lines
starting "ASSUMPTION:"), the usage and cost it reports, and whether it says it failed.

Usage or cost a CLI does not report stays None (unknown), never 0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from crewchief.records import Usage

OutputFormat = Literal["text", "claude-json", "codex-jsonl", "opencode-jsonl", "aider", "mini"]


@dataclass(frozen=True)
class AgentOutput:
    """What a CLI said at the end: its last message, usage if reported, whether it failed,
    and the error it reported in its own output (not only on stderr)."""

    message: str
    usage: Usage
    failed: bool = False
    error: str | None = None


def parse_output(fmt: OutputFormat, stdout: bytes, extra: bytes | None = None) -> AgentOutput:
    """Read a CLI's stdout (``extra``: a file it wrote, e.g. mini's trajectory)."""
    text = stdout.decode("utf-8", "replace")
    parser = {
        "text": _text,
        "claude-json": _claude,
        "codex-jsonl": _codex,
        "opencode-jsonl": _opencode,
        "aider": _aider,
    }.get(fmt)
    if parser is not None:
        return parser(text)
    return _mini(text, extra)


def _json_lines(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                yield value


def _text(text: str) -> AgentOutput:
    return AgentOutput(_last_paragraph(text), Usage())


def _last_paragraph(text: str, limit: int = 4000) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return parts[-1][-limit:] if parts else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _claude(text: str) -> AgentOutput:
    """``claude -p --output-format json``: one result object (the last one, if streamed)."""
    results = [e for e in _json_lines(text) if e.get("type") == "result"]
    if not results:
        return AgentOutput(_last_paragraph(text), Usage(), failed=True)
    res = results[-1]
    failed = bool(res.get("is_error")) or res.get("subtype") not in (None, "success")
    usage, models = _dict(res.get("usage")), _dict(res.get("modelUsage"))
    return AgentOutput(
        str(res.get("result") or ""),
        Usage(
            model=next(iter(models), None),
            input_tokens=_int(usage.get("input_tokens")),
            output_tokens=_int(usage.get("output_tokens")),
            cached_tokens=_int(usage.get("cache_read_input_tokens")),
            cost_usd=_float(res.get("total_cost_usd")),
        ),
        failed=failed,
        error=str(res.get("result") or "")[:2000] or None if failed else None,
    )


def _codex(text: str) -> AgentOutput:
    """``codex exec --json``: agent_message items; usage summed over turn.completed events."""
    message, failed = "", False
    totals: dict[str, int] = {}
    for event in _json_lines(text):
        kind, item = event.get("type"), event.get("item")
        if kind == "item.completed" and isinstance(item, dict):
            if item.get("type") in ("agent_message", "assistant_message"):
                message = str(item.get("text") or message)
        elif kind == "turn.completed" and isinstance(event.get("usage"), dict):
            for key, value in event["usage"].items():
                if (n := _int(value)) is not None:
                    totals[key] = totals.get(key, 0) + n
        elif kind in ("turn.failed", "error"):
            failed = True
    usage = Usage(
        input_tokens=totals.get("input_tokens"),
        output_tokens=totals.get("output_tokens"),
        cached_tokens=totals.get("cached_input_tokens"),
    )
    return AgentOutput(message, usage, failed)


def _opencode(text: str) -> AgentOutput:
    """``opencode run --format json``: text parts; step-finish parts carry tokens and cost; an
    ``error`` event carries the error (e.g. "Cannot connect to API: …")."""
    message, cost, tokens_in, tokens_out, seen = "", 0.0, 0, 0, False
    errors: list[str] = []
    for event in _json_lines(text):
        part = _dict(event.get("part")) or event
        if event.get("type") == "error":
            failure = _dict(event.get("error"))
            said = _dict(failure.get("data")).get("message") or failure.get("name") or "error"
            errors.append(str(said))
        if part.get("type") == "text" and part.get("text"):
            message = str(part["text"])
        if part.get("type") in ("step-finish", "step_finish"):
            seen = True
            cost += _float(part.get("cost")) or 0.0
            tokens = _dict(part.get("tokens"))
            tokens_in += _int(tokens.get("input")) or 0
            tokens_out += _int(tokens.get("output")) or 0
    # opencode prices from its model table: a model without a price there costs "0".
    usage = (
        Usage(input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost or None)
        if seen
        else (Usage())
    )
    error = "; ".join(errors)[:2000] or None
    return AgentOutput(message, usage, failed=bool(errors), error=error)


_AIDER_TOKENS = re.compile(
    r"Tokens: ([\d.]+)(k?) sent,.*?([\d.]+)(k?) received\."
    r"(?: Cost: \$[\d.]+ message, \$([\d.]+) session)?"
)


#: aider's own lines around the model's reply, not part of the rationale.
_AIDER_STATUS = re.compile(r"^(Tokens:|Applied edit to |Cost:|Commit |Only \d+ reflections)")


def _aider(text: str) -> AgentOutput:
    """aider echoes the model's reply, then "Applied edit to …" and "Tokens: 2.1k sent, 130
    received. Cost: $0.01 message, $0.02 session." (no Cost part when it has no price). The
    rationale is what the model said after its last SEARCH/REPLACE block."""
    found = list(_AIDER_TOKENS.finditer(text))
    reply = text.rsplit(">>>>>>> REPLACE", 1)[-1]
    reply = reply.split("\n", 2)[-1] if reply.lstrip("\n").startswith("```") else reply
    kept = [line for line in reply.splitlines() if not _AIDER_STATUS.match(line)]
    message = "\n".join(kept).strip()[-4000:]  # aider's own status lines are no rationale
    if not found:
        return AgentOutput(message, Usage())
    sent = sum(_k(m.group(1), m.group(2)) for m in found)
    received = sum(_k(m.group(3), m.group(4)) for m in found)
    cost = found[-1].group(5)
    usage = Usage(input_tokens=sent, output_tokens=received, cost_usd=float(cost) if cost else None)
    return AgentOutput(message, usage)


def _k(number: str, suffix: str) -> int:
    return round(float(number) * (1000 if suffix else 1))


def _mini(text: str, trajectory: bytes | None) -> AgentOutput:
    """mini-swe-agent's trajectory file: ``info.model_stats`` and the last assistant message
    (the one that submits)."""
    try:
        data = json.loads(trajectory or b"")
    except ValueError:
        return AgentOutput(_last_paragraph(text), Usage())
    stats = _dict(_dict(_dict(data).get("info")).get("model_stats"))
    messages = _dict(data).get("messages")
    messages = messages if isinstance(messages, list) else []
    said = [
        m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "assistant"
    ]
    message = str(said[-1]) if said else _last_paragraph(text)
    # crewchief runs mini with cost tracking set to ignore errors: an unpriced model then counts
    # $0, which cannot be told from free. Only a positive cost is a known one.
    cost = _float(stats.get("instance_cost"))
    return AgentOutput(message, Usage(cost_usd=cost if cost else None))


def assumptions(message: str) -> tuple[str, ...]:
    """Lines of the last message that start with "ASSUMPTION:"."""
    found = re.findall(r"(?im)^\s*[-*]?\s*ASSUMPTION:\s*(.+?)\s*$", message)
    return tuple(found)
