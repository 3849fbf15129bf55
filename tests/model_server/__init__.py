"""A scripted model server for tests: a real HTTP server on 127.0.0.1 that speaks the wire formats
coding CLIs use, and answers with whatever a test's responder says.

Spoken: OpenAI chat completions (``/v1/chat/completions``), the OpenAI responses API
(``/v1/responses``), Anthropic messages (``/v1/messages``, plus ``/v1/messages/count_tokens``), each
plain or streaming (SSE) as the request asks, and a model list (``GET /v1/models``) in OpenAI or
Anthropic form. Paths are matched on their ending, so any prefix (``/v1``, none) works.

Usage::

    from model_server import Reply, ScriptedModelServer, ToolCall

    def responder(request):                # a ModelRequest -> a Reply
        if not request.has_tool_result:
            return Reply(tool=ToolCall("Edit", {"file_path": "...", ...}))
        return Reply(text="Done.")

    with ScriptedModelServer(responder) as server:
        server.url            # "http://127.0.0.1:PORT" (OpenAI clients want server.url + "/v1")
        ...
        server.requests       # what arrived: api, path, bytes, stream, model

A responder sees each request's API, model, tool names, whether a tool result came back and the
whole request body; it returns text, a tool call or both. The server turns that into the API's own
shape (``tool_use`` blocks, ``function_call`` items, ``tool_calls`` deltas, or a responses-API
``custom_tool_call`` when the offered tool is a freeform one, as codex's ``apply_patch`` is).
"""

from model_server.server import (
    ModelRequest,
    Reply,
    RequestLog,
    Responder,
    ScriptedModelServer,
    ToolCall,
    closed_port_url,
)

__all__ = [
    "ModelRequest",
    "Reply",
    "RequestLog",
    "Responder",
    "ScriptedModelServer",
    "ToolCall",
    "closed_port_url",
]
