"""The real Claude Code CLI as the host agent of ``crewchief mcp``: configured as the README says
(``--mcp-config`` with the stdio command and ``--strict-mcp-config``, or the README's own
``claude mcp add`` command), in print mode with ``--allowedTools mcp__crewchief``, its model the
scripted Anthropic-compatible server.

The scripted model is a manager that decides each next call from the tool results Claude Code
sends back: it loads crewchief's tools (Claude Code defers MCP tools behind its ToolSearch),
validates the plan, starts the run, follows it with run_status (waiting for a change) until a
task awaits review, approves it, merges when the run awaits approval, then answers in text
(or answers as soon as the call a test names it to stop at has come back).
Claude Code's private HOME keeps the machine's user out of it: Claude Code keeps its settings and
its registered MCP servers in ``$CLAUDE_CONFIG_DIR/.claude.json`` (``~/.claude.json`` without the
variable), its logs under ``$XDG_CACHE_HOME`` and its scratch files under ``$CLAUDE_CODE_TMPDIR``,
and reads ``$XDG_CONFIG_HOME/anthropic``; all of them point into that HOME.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_server import ModelRequest, Reply, ToolCall
from repo_helpers import GIT_ENV, PY

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install-agents.sh"
README = ROOT / "README.md"
#: The README's stand-in for the repository crewchief serves.
REPO_PLACEHOLDER = "/path/to/repo"
HOST_NAME = "claude-code"
MODEL = "scripted-model"
PREFIX = "mcp__crewchief__"
#: Calls of the scripted manager before it gives up (a backstop; a run ends far sooner).
MAX_CALLS = 400
#: How long one run_status call may wait for the run to need the manager (the tool's maximum).
WAIT_S = 60
CLI_DEADLINE_S = 600


def claude_bin() -> Path:
    """The installed ``claude`` (scripts/install-agents.sh, a no-op once installed)."""
    proc = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(proc.stdout.strip().splitlines()[-1]) / "claude"


#: What ``crewchief mcp`` runs with besides Claude Code's environment: this checkout's source, no
#: real model request, a git identity for the commits its runs make.
SERVER_ENV = {
    "PYTHONPATH": str(ROOT / "src"),
    "CREWCHIEF_NO_MODEL_REQUESTS": "1",
    **GIT_ENV,
}


def mcp_config(repo: Path, path: Path) -> Path:
    """The README's ``--mcp-config`` file, with this interpreter and this checkout's source."""
    server = {
        "command": PY,
        "args": ["-m", "crewchief", "mcp", "--repo", str(repo), "--host-name", HOST_NAME],
        "env": SERVER_ENV,
    }
    path.write_text(json.dumps({"mcpServers": {"crewchief": server}}))
    return path


def install_crewchief(home: Path) -> Path:
    """A ``crewchief`` command in ``home``'s ``.local/bin`` (where pipx puts it; first on Claude
    Code's PATH here) running this checkout with ``SERVER_ENV``: what the README's commands name."""
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in SERVER_ENV.items())
    path = _bin_dir(home) / "crewchief"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nexport {exports}\nexec {shlex.quote(PY)} -m crewchief "$@"\n')
    path.chmod(0o755)
    return path


def readme_mcp_add(repo: Path) -> list[str]:
    """The README's ``claude mcp add`` command, word for word, serving ``repo``."""
    lines = README.read_text().splitlines()
    argv = shlex.split(next(line for line in lines if line.startswith("claude mcp add ")))
    assert REPO_PLACEHOLDER in argv, argv
    return [str(repo) if word == REPO_PLACEHOLDER else word for word in argv]


def claude(repo: Path, home: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``claude ARGS`` in ``repo`` with ``home`` as its HOME and ``base_url`` as its model
    server; AssertionError with its output unless it exits 0."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{_bin_dir(home)}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CLAUDE_CODE_TMPDIR": str(home / "tmp"),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-scripted-123456",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
        # Backstops for a loaded machine: the server's start and a tool call (merge_run).
        "MCP_TIMEOUT": "120000",
        "MCP_TOOL_TIMEOUT": "300000",
    }
    proc = subprocess.run(
        [str(claude_bin()), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_DEADLINE_S,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def run_claude(repo: Path, prompt: str, base_url: str, home: Path) -> dict[str, Any]:
    """``claude -p PROMPT`` in ``repo`` with crewchief as its only MCP server, given by the
    README's ``--mcp-config`` file; its JSON result."""
    home.mkdir(parents=True, exist_ok=True)
    config = mcp_config(repo, home / "crewchief-mcp.json")
    return print_session(
        repo, prompt, base_url, home, "--mcp-config", str(config), "--strict-mcp-config"
    )


def print_session(
    repo: Path, prompt: str, base_url: str, home: Path, *mcp_args: str
) -> dict[str, Any]:
    """``claude -p PROMPT`` in ``repo``, crewchief's tools allowed, with the MCP servers registered
    in ``home`` (or as ``mcp_args`` say); its JSON result."""
    argv = [
        "-p", prompt, "--model", MODEL, "--output-format", "json", *mcp_args,
        "--allowedTools", "mcp__crewchief", "--no-session-persistence",
    ]  # fmt: skip
    result: dict[str, Any] = json.loads(claude(repo, home, base_url, *argv).stdout)
    return result


def _bin_dir(home: Path) -> Path:
    return home / ".local" / "bin"


@dataclass(frozen=True)
class Exchange:
    """One call the model made and the tool result Claude Code sent back for it."""

    tool: str
    call_id: str
    arguments: dict[str, Any]
    result: str
    is_error: bool

    def data(self) -> Any:
        return json.loads(self.result)


def exchanges(request: ModelRequest) -> list[Exchange]:
    """Every tool call in the conversation paired with the tool result sent back for it."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    found = []
    for message in request.body.get("messages", []):
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_use":
                calls[block["id"]] = (block["name"], block.get("input") or {})
            elif block.get("type") == "tool_result" and block.get("tool_use_id") in calls:
                name, args = calls[block["tool_use_id"]]
                text = _text(block.get("content"))
                error = bool(block.get("is_error"))
                found.append(Exchange(name, block["tool_use_id"], args, text, error))
    return found


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else []
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


def _call(tool: str, **args: Any) -> Reply:
    return Reply(tool=ToolCall(PREFIX + tool, args))


class Manager:
    """A scripted manager for ``plan``: each reply is decided from the results received so far.
    ``requests`` keeps every request it answered (the scripted server's log of bodies)."""

    def __init__(self, plan: dict[str, Any], last_tool: str = "merge_run") -> None:
        self.plan = plan
        #: The call after whose result it answers in text (and the session ends).
        self.last_tool = last_tool
        self.requests: list[ModelRequest] = []
        #: The id of every tool call it made.
        self.call_ids: list[str] = []

    def __call__(self, request: ModelRequest) -> Reply:
        self.requests.append(request)
        reply = self.decide(request)
        if reply.tool:
            self.call_ids.append(reply.call_id)
        return reply

    def decide(self, request: ModelRequest) -> Reply:
        offered = request.tools
        if "ToolSearch" not in offered and not any(t.startswith(PREFIX) for t in offered):
            return Reply(text="ok")  # a side request of Claude Code's, not the session
        done = exchanges(request)
        if not done:  # Claude Code defers MCP tools: load crewchief's schemas first
            names = ",".join(PREFIX + t for t in TOOLS)
            return Reply(tool=ToolCall("ToolSearch", {"query": f"select:{names}"}))
        last = done[-1]
        if last.is_error:
            return Reply(text=f"crewchief refused: {last.result}")
        if len(done) >= MAX_CALLS:
            return Reply(text=f"gave up after {len(done)} calls: {last.result}")
        return self.next_step(last, done)

    def next_step(self, last: Exchange, done: list[Exchange]) -> Reply:
        tool = last.tool.removeprefix(PREFIX)
        if tool == self.last_tool:
            return Reply(text=f"{tool} answered: {last.result}")
        if tool == "ToolSearch":
            return _call("validate_plan", plan=self.plan)
        if tool == "validate_plan":
            checked = last.data()
            if not checked["valid"]:
                return Reply(text=f"the plan is not valid: {checked['problems']}")
            return _call("start_run", plan=self.plan)
        run = next(e.data()["run"] for e in done if e.tool == PREFIX + "start_run")
        if tool != "run_status":  # start_run, review_task: see where the run is
            return _call("run_status", run=run, wait_s=WAIT_S)
        status = last.data()
        if status["awaiting_review"]:
            task = status["awaiting_review"][0]
            why = [f"the diff of {task} does what its instruction says"]
            return _call("review_task", run=run, task=task, decision="approve", reasons=why)
        if status["state"] == "awaiting_approval":
            return _call("merge_run", run=run)
        if status["state"] in ("merged", "failed", "cancelled"):
            return Reply(text=f"run {run} is {status['state']}")
        return _call("run_status", run=run, wait_s=WAIT_S)


TOOLS = ("validate_plan", "start_run", "run_status", "task_dossier", "review_task", "merge_run")
