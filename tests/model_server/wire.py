"""A Reply in each API's own shape: whole responses and their streamed (SSE) event sequences."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model_server.server import Api, ModelRequest, Reply

Event = tuple[str | None, dict[str, Any] | str]
CREATED = 1_700_000_000


def model_list(ids: tuple[str, ...], anthropic: bool) -> dict[str, Any]:
    if anthropic:
        data = [
            {"type": "model", "id": i, "display_name": i, "created_at": "2025-01-01T00:00:00Z"}
            for i in ids
        ]
        return {"data": data, "has_more": False, "first_id": ids[0], "last_id": ids[-1]}
    data = [{"id": i, "object": "model", "created": CREATED, "owned_by": "scripted"} for i in ids]
    return {"object": "list", "data": data}


def whole(api: Api, request: ModelRequest, reply: Reply, tokens: tuple[int, int]) -> dict[str, Any]:
    if api == "chat":
        return _chat(request, reply, tokens)
    if api == "responses":
        return _response(request, reply, tokens, "completed")
    return _message(request, reply, tokens)


def stream(
    api: Api, request: ModelRequest, reply: Reply, tokens: tuple[int, int]
) -> Iterator[Event]:
    if api == "chat":
        return _chat_stream(request, reply, tokens)
    if api == "responses":
        return _response_stream(request, reply, tokens)
    return _message_stream(request, reply, tokens)


def _call_id(reply: Reply) -> str:
    return reply.call_id


def _args(reply: Reply) -> str:
    assert reply.tool is not None
    args = reply.tool.arguments
    return args if isinstance(args, str) else json.dumps(args)


# --- chat completions ------------------------------------------------------------------------


def _chat(request: ModelRequest, reply: Reply, tokens: tuple[int, int]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool is not None:
        message["tool_calls"] = [
            {
                "id": _call_id(reply),
                "type": "function",
                "function": {"name": reply.tool.name, "arguments": _args(reply)},
            }
        ]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": CREATED,
        "model": request.model,
        "choices": [{"index": 0, "message": message, "finish_reason": _chat_finish(reply)}],
        "usage": _chat_usage(tokens),
    }


def _chat_finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool is not None else "stop"


def _chat_usage(tokens: tuple[int, int]) -> dict[str, int]:
    return {"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "total_tokens": sum(tokens)}


def _chat_stream(request: ModelRequest, reply: Reply, tokens: tuple[int, int]) -> Iterator[Event]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> Event:
        return None, {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": request.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    if reply.text:
        yield chunk({"content": reply.text})
    if reply.tool is not None:
        call = {"index": 0, "id": _call_id(reply), "type": "function"}
        named = {**call, "function": {"name": reply.tool.name, "arguments": ""}}
        yield chunk({"tool_calls": [named]})
        yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": _args(reply)}}]})
    yield chunk({}, _chat_finish(reply))
    yield (
        None,
        {
            "id": "chatcmpl-scripted",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": request.model,
            "choices": [],
            "usage": _chat_usage(tokens),
        },
    )
    yield None, "[DONE]"


# --- responses API ---------------------------------------------------------------------------


def _items(request: ModelRequest, reply: Reply) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if reply.text:
        items.append(
            {
                "type": "message",
                "id": "msg_scripted",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
            }
        )
    if reply.tool is not None:
        if reply.tool.name in request.freeform_tools:
            items.append(
                {
                    "type": "custom_tool_call",
                    "id": "ctc_scripted",
                    "call_id": _call_id(reply),
                    "name": reply.tool.name,
                    "input": _args(reply),
                    "status": "completed",
                }
            )
        else:
            items.append(
                {
                    "type": "function_call",
                    "id": "fc_scripted",
                    "call_id": _call_id(reply),
                    "name": reply.tool.name,
                    "arguments": _args(reply),
                    "status": "completed",
                }
            )
    return items


def _response(
    request: ModelRequest, reply: Reply, tokens: tuple[int, int], status: str
) -> dict[str, Any]:
    done = status == "completed"
    return {
        "id": "resp_scripted",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "model": request.model,
        "output": _items(request, reply) if done else [],
        "usage": {
            "input_tokens": tokens[0],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": tokens[1],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": sum(tokens),
        }
        if done
        else None,
    }


def _response_stream(
    request: ModelRequest, reply: Reply, tokens: tuple[int, int]
) -> Iterator[Event]:
    seq = iter(range(1, 1000))

    def event(kind: str, **data: Any) -> Event:
        return kind, {"type": kind, "sequence_number": next(seq), **data}

    yield event("response.created", response=_response(request, reply, tokens, "in_progress"))
    for index, item in enumerate(_items(request, reply)):
        started = {**item, "status": "in_progress"}
        if item["type"] == "message":
            started["content"] = []
        yield event("response.output_item.added", output_index=index, item=started)
        if item["type"] == "message":
            text = item["content"][0]["text"]
            part = {"type": "output_text", "text": "", "annotations": []}
            ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
            yield event("response.content_part.added", **ids, part=part)
            yield event("response.output_text.delta", **ids, delta=text)
            yield event("response.output_text.done", **ids, text=text)
            yield event("response.content_part.done", **ids, part=item["content"][0])
        yield event("response.output_item.done", output_index=index, item=item)
    yield event("response.completed", response=_response(request, reply, tokens, "completed"))


# --- Anthropic messages ----------------------------------------------------------------------


def _blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    if reply.tool is not None:
        args = reply.tool.arguments
        blocks.append(
            {
                "type": "tool_use",
                "id": _call_id(reply),
                "name": reply.tool.name,
                "input": args if isinstance(args, dict) else {"input": args},
            }
        )
    return blocks


def _stop(reply: Reply) -> str:
    return "tool_use" if reply.tool is not None else "end_turn"


def _message(request: ModelRequest, reply: Reply, tokens: tuple[int, int]) -> dict[str, Any]:
    return {
        "id": "msg_scripted",
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": _blocks(reply),
        "stop_reason": _stop(reply),
        "stop_sequence": None,
        "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]},
    }


def _message_stream(
    request: ModelRequest, reply: Reply, tokens: tuple[int, int]
) -> Iterator[Event]:
    start = {**_message(request, reply, tokens), "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": tokens[0], "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(_blocks(reply)):
        empty = {**block, "text": ""} if block["type"] == "text" else {**block, "input": {}}
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": empty,
            },
        )
        delta = (
            {"type": "text_delta", "text": block["text"]}
            if block["type"] == "text"
            else {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        )
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop(reply), "stop_sequence": None},
            "usage": {"output_tokens": tokens[1]},
        },
    )
    yield "message_stop", {"type": "message_stop"}
