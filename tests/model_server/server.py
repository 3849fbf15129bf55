"""The server: a ThreadingHTTPServer in a daemon thread, routing on the request path's ending."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

from model_server import wire

Api = Literal["chat", "responses", "anthropic"]


@dataclass(frozen=True)
class ToolCall:
    """A call of the tool ``name``: ``arguments`` as a JSON object, or a string for a freeform
    (responses-API ``custom``) tool such as codex's ``apply_patch``."""

    name: str
    arguments: dict[str, Any] | str


@dataclass(frozen=True)
class Reply:
    """What the model says: text, a tool call, or both (text first)."""

    text: str = ""
    tool: ToolCall | None = None
    #: Fresh for every reply: CLIs match tool results to calls by id and drop repeats.
    call_id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:16]}")


@dataclass(frozen=True)
class ModelRequest:
    """One request as a responder sees it."""

    api: Api
    model: str
    stream: bool
    tools: tuple[str, ...]
    freeform_tools: tuple[str, ...]
    tool_results: int
    body: dict[str, Any]

    @property
    def has_tool_result(self) -> bool:
        return self.tool_results > 0

    @property
    def text(self) -> str:
        """The whole request body as text (to look for a phrase in the prompt)."""
        return json.dumps(self.body)


Responder = Callable[[ModelRequest], Reply]


@dataclass(frozen=True)
class RequestLog:
    """One request that arrived: where, how big, in which API."""

    method: str
    path: str
    api: str
    bytes: int
    stream: bool
    model: str
    tools: tuple[str, ...] = ()  # the tools the request offered the model


@dataclass
class _State:
    responder: Responder
    model_ids: tuple[str, ...]
    requests: list[RequestLog] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ScriptedModelServer:
    """Serve ``responder``'s replies on 127.0.0.1 until the context exits."""

    def __init__(self, responder: Responder, model_ids: tuple[str, ...] = ("scripted",)) -> None:
        self._state = _State(responder, model_ids)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RequestLog]:
        with self._state.lock:
            return list(self._state.requests)

    def model_requests(self) -> list[RequestLog]:
        """The requests that asked the model something (not model lists or token counts)."""
        return [r for r in self.requests if r.api in ("chat", "responses", "anthropic")]

    def __enter__(self) -> ScriptedModelServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            self._log("models", 0, False, "")
            if not self.path.rstrip("/").split("?")[0].endswith("/models"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            anthropic = "anthropic-version" in self.headers or "x-api-key" in self.headers
            self._json(200, wire.model_list(state.model_ids, anthropic))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0].rstrip("/")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._json(400, {"error": {"message": "body is not JSON"}})
                return
            if path.endswith("/count_tokens"):
                self._log("count_tokens", len(raw), False, str(body.get("model", "")))
                self._json(200, {"input_tokens": max(1, len(raw) // 4)})
                return
            api: Api | None = (
                "chat"
                if path.endswith("/chat/completions")
                else "responses"
                if path.endswith("/responses")
                else "anthropic"
                if path.endswith("/messages")
                else None
            )
            if api is None:
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            request = _request(api, body)
            self._log(api, len(raw), request.stream, request.model, request.tools)
            reply = state.responder(request)
            said = len(reply.text) + len(str(reply.tool.arguments) if reply.tool else "")
            tokens = (max(1, len(raw) // 4), max(1, said // 4))
            if request.stream:
                self._sse(wire.stream(api, request, reply, tokens))
            else:
                self._json(200, wire.whole(api, request, reply, tokens))

        def _log(
            self, api: str, size: int, stream: bool, model: str, tools: tuple[str, ...] = ()
        ) -> None:
            with state.lock:
                log = RequestLog(self.command, self.path, api, size, stream, model, tools)
                state.requests.append(log)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _sse(self, events: Iterator[tuple[str | None, dict[str, Any] | str]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for name, data in events:
                text = data if isinstance(data, str) else json.dumps(data)
                head = f"event: {name}\n" if name else ""
                self.wfile.write(f"{head}data: {text}\n\n".encode())
                self.wfile.flush()
            self.close_connection = True

    return Handler


def _request(api: Api, body: dict[str, Any]) -> ModelRequest:
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    names = tuple(_tool_name(t) for t in tools if isinstance(t, dict))
    freeform = tuple(
        str(t.get("name")) for t in tools if isinstance(t, dict) and t.get("type") == "custom"
    )
    return ModelRequest(
        api=api,
        model=str(body.get("model", "")),
        stream=bool(body.get("stream")),
        tools=tuple(n for n in names if n),
        freeform_tools=freeform,
        tool_results=_tool_results(api, body),
        body=body,
    )


def _tool_name(tool: dict[str, Any]) -> str:
    fn = tool.get("function")
    if isinstance(fn, dict):
        return str(fn.get("name", ""))
    return str(tool.get("name", ""))


def _tool_results(api: Api, body: dict[str, Any]) -> int:
    """How many tool results the conversation carries (how far a scripted edit has got)."""
    if api == "chat":
        return sum(m.get("role") == "tool" for m in _dicts(body.get("messages")))
    if api == "responses":
        kinds = ("function_call_output", "custom_tool_call_output")
        return sum(i.get("type") in kinds for i in _dicts(body.get("input")))
    return sum(
        b.get("type") == "tool_result"
        for message in _dicts(body.get("messages"))
        for b in _dicts(message.get("content"))
    )


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
