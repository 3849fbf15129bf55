"""Recorded provider responses and two ways to serve them without network: an httpx2
MockTransport handed to the SDK client, and a real HTTP server on the loopback interface."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2


@dataclass
class Canned:
    """Responses served in order; every request received is kept (path, JSON body)."""

    responses: list[tuple[int, dict[str, str], dict[str, Any]]]
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def next(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((path, json.loads(body or b"{}")))
        status, headers, payload = self.responses.pop(0)
        return status, {"content-type": "application/json", **headers}, json.dumps(payload).encode()

    def client(self) -> httpx2.AsyncClient:
        def handle(request: httpx2.Request) -> httpx2.Response:
            status, headers, body = self.next(request.url.path, request.read())
            return httpx2.Response(status, headers=headers, content=body)

        return httpx2.AsyncClient(transport=httpx2.MockTransport(handle))


@contextmanager
def loopback(canned: Canned) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving ``canned``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status, headers, payload = canned.next(self.path, body)
            self.send_response(status)
            for k, v in {**headers, "content-length": str(len(payload))}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def openai_tool_call(
    name: str, args: dict[str, Any], usage: tuple[int, int, int]
) -> dict[str, Any]:
    """A chat.completion whose assistant message calls one tool (as OpenAI returns it)."""
    prompt, completion, cached = usage
    return {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-4.1-mini-2025-04-14",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "logprobs": None,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": f"call_{name}",
                            "type": "function",
                            "function": {"name": name, "arguments": json.dumps(args)},
                        }
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }


def anthropic_tool_use(
    name: str, args: dict[str, Any], usage: tuple[int, int, int]
) -> dict[str, Any]:
    """A Messages API response whose content is one tool_use block (as Anthropic returns it)."""
    uncached, output, cache_read = usage
    return {
        "id": "msg_01XyZ",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "tool_use", "id": f"toolu_{name}", "name": name, "input": args}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": uncached,
            "output_tokens": output,
            "cache_read_input_tokens": cache_read,
            "cache_creation_input_tokens": 0,
        },
    }


def error(status: int, message: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    """A provider error with a tiny Retry-After, so SDK backoff takes milliseconds."""
    return (
        status,
        {"retry-after-ms": "5"},
        {"error": {"type": "rate_limit_error", "message": message}},
    )
