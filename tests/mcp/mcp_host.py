"""The real MCP client of the ``mcp`` SDK, talking to ``crewchief mcp`` over stdio."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.from_thread import start_blocking_portal
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from repo_helpers import GIT_ENV, PY

HOST = "test-host"
#: Backstop for a background run to reach a state; the wait ends as soon as it does.
RUN_DEADLINE_S = 600.0
POLL_S = 0.3


@asynccontextmanager
async def connect(repo: Path) -> AsyncIterator[ClientSession]:
    """An initialized session with ``crewchief mcp`` serving ``repo``."""
    params = StdioServerParameters(
        command=PY,
        args=["-m", "crewchief", "mcp", "--repo", str(repo), "--host-name", HOST],
        env={**os.environ, **GIT_ENV},
        cwd=repo,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def with_host(repo: Path, body: Callable[[ClientSession], Awaitable[None]]) -> None:
    """Run ``body`` with a connected session, to its end."""

    async def main() -> None:
        async with connect(repo) as session:
            await body(session)

    anyio.run(main)


Body = Callable[[ClientSession], Awaitable[None]]


@contextmanager
def host_session(repo: Path) -> Iterator[Callable[[Body], None]]:
    """One connected session kept open for several tests (each server start costs seconds):
    what it gives runs a test's ``body`` with that session, to its end."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connect(repo)) as session,
    ):
        yield lambda body: portal.call(body, session)


async def call(session: ClientSession, tool: str, **args: Any) -> Any:
    """The tool's structured answer; AssertionError with its text if it answered an error."""
    result = await session.call_tool(tool, args)
    text = "".join(getattr(c, "text", "") for c in result.content)
    assert not result.is_error, text
    structured = result.structured_content
    if structured is not None and set(structured) == {"result"}:
        return structured["result"]
    return structured if structured is not None else json.loads(text)


async def error_of(session: ClientSession, tool: str, **args: Any) -> str:
    """The message of the tool error ``tool`` answers with (AssertionError if it succeeded)."""
    result = await session.call_tool(tool, args)
    assert result.is_error, result
    return "".join(getattr(c, "text", "") for c in result.content)


async def wait_status(
    session: ClientSession, run: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll run_status until ``until`` holds (the run is driven by its own process)."""
    deadline = time.monotonic() + RUN_DEADLINE_S
    while True:
        status: dict[str, Any] = await call(session, "run_status", run=run)
        if until(status):
            return status
        assert status["state"] not in ("failed", "cancelled"), status
        assert time.monotonic() < deadline, f"run never reached the state: {status}"
        await anyio.sleep(POLL_S)
