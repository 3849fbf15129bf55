"""Contract tests with the real coding CLIs (from the registries, at pinned versions), driven by
crewchief's whole pipeline against the scripted model server on 127.0.0.1.

For each built-in agent: a run with two tasks, one whose edit stays in its scope (it merges, and
its commit carries the provenance trailers with Crewchief-Model) and one whose edit leaves it (it
is refused); and a run whose model is unreachable, which ends with the CLI's own error instead of
waiting for the task timeout. The scripted model answers in each CLI's own format: tool calls of
codex's apply_patch, Claude Code's Read/Edit, opencode's edit tool, aider's SEARCH/REPLACE
blocks, mini-swe-agent's bash command.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from real_clis import (
    GOOD_FILE,
    MODEL,
    agents_bin,
    attempts,
    configure,
    head_message,
    new_text,
    old_text,
    plan,
    run,
    target,
)

from model_server import ModelRequest, Reply, ScriptedModelServer, ToolCall, closed_port_url
from repo_helpers import default_config, git, task_states

DONE = "Added a docstring to f.\nASSUMPTION: a one-line docstring is enough"


def _codex(request: ModelRequest) -> Reply:
    """codex offers exec_command; its apply_patch grammar runs through it."""
    if request.tool_results or "exec_command" not in request.tools:
        return Reply(text=DONE)
    path = target(request.text)
    old, new = old_text(path), new_text(path)
    minus = "".join(f"-{line}\n" for line in old.split("\n"))
    plus = "".join(f"+{line}\n" for line in new.split("\n"))
    patch = f"*** Begin Patch\n*** Update File: {path}\n@@\n{minus}{plus}*** End Patch\n"
    return Reply(tool=ToolCall("exec_command", {"cmd": f"apply_patch <<'EOF'\n{patch}EOF\n"}))


def _claude(request: ModelRequest) -> Reply:
    """Claude Code edits only files it has read: Read, then Edit, then the summary."""
    if "Edit" not in request.tools:
        return Reply(text="ok")
    found = re.search(r"Primary working directory: ([^\s\\]+)", request.text)
    assert found, "Claude Code's system prompt names its working directory"
    path = target(request.text)
    file_path = f"{found.group(1)}/{path}"
    steps = [
        ToolCall("Read", {"file_path": file_path}),
        ToolCall(
            "Edit",
            {"file_path": file_path, "old_string": old_text(path), "new_string": new_text(path)},
        ),
    ]
    if request.tool_results < len(steps):
        return Reply(tool=steps[request.tool_results])
    return Reply(text=DONE)


def _aider(request: ModelRequest) -> Reply:
    """aider asks for SEARCH/REPLACE blocks in the reply text (no tools)."""
    said = [m for m in request.body.get("messages", []) if m.get("role") == "assistant"]
    if said and "SEARCH/REPLACE" in str(said[-1].get("content")):
        return Reply(text="The edit is in place.")
    path = target(request.text)
    block = (
        f"{path}\n```python\n<<<<<<< SEARCH\n{old_text(path)}\n=======\n{new_text(path)}\n"
        ">>>>>>> REPLACE\n```\n"
    )
    return Reply(text=f"{block}\n{DONE}\n")


def _mini(request: ModelRequest) -> Reply:
    """mini-swe-agent runs one bash command per turn, then the command that submits."""
    if request.tool_results == 0:
        path = target(request.text)
        script = (
            f"from pathlib import Path; p = Path({path!r}); "
            f"p.write_text(p.read_text().replace({old_text(path)!r}, {new_text(path)!r}))"
        )
        command = f"python3 -c {shlex.quote(script)}"
        return Reply(text="Adding the docstring.", tool=ToolCall("bash", {"command": command}))
    submit = {"command": "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"}
    return Reply(text=DONE, tool=ToolCall("bash", submit))


def _opencode(request: ModelRequest) -> Reply:
    """opencode edits only files it has read: read, then edit, then the summary."""
    if "edit" not in request.tools:
        return Reply(text="Docstring for f")  # its title request
    found = re.search(r"Working directory: ([^\s\\<]+)", request.text)
    assert found, "opencode's system prompt names its working directory"
    path = target(request.text)
    file_path = f"{found.group(1)}/{path}"
    steps = [
        ToolCall("read", {"filePath": file_path}),
        ToolCall(
            "edit",
            {"filePath": file_path, "oldString": old_text(path), "newString": new_text(path)},
        ),
    ]
    if request.tool_results < len(steps):
        return Reply(tool=steps[request.tool_results])
    return Reply(text=DONE)


RESPONDERS: dict[str, Callable[[ModelRequest], Reply]] = {
    "opencode": _opencode,
    "mini": _mini,
    "codex": _codex,
    "claude": _claude,
    "aider": _aider,
}
#: Where each CLI expects base_url to point: OpenAI clients add /chat/completions or
#: /responses to a URL ending in /v1; Anthropic's adds /v1/messages itself.
URL_SUFFIX = {"claude": ""}
#: Which CLIs report a cost for an unpriced scripted model (Claude Code estimates one itself);
#: the others' cost is unknown, never a false $0.
COST_KNOWN = {"claude": True}
AGENTS = sorted(RESPONDERS)


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    return agents_bin()


def _figures(agent: str, server: ScriptedModelServer, seconds: float, cost: float | None) -> None:
    """Per agent: seconds of the attempt, bytes sent to the model, whether cost was known
    (appended to $CREWCHIEF_AGENT_FIGURES when set, for the issue's note)."""
    out = os.environ.get("CREWCHIEF_AGENT_FIGURES")
    if out:
        asked = server.model_requests()
        row = {"agent": agent, "seconds": round(seconds, 1), "requests": len(asked),
               "bytes_sent": sum(r.bytes for r in asked),
               "cost_known": cost is not None}  # fmt: skip
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")


@pytest.mark.parametrize("agent", AGENTS)
def test_an_edit_in_scope_merges_with_its_trailers_and_one_outside_is_refused(
    agent: str, project: Path, bin_dir: Path
) -> None:
    with ScriptedModelServer(RESPONDERS[agent], model_ids=(MODEL,)) as server:
        configure(project, agent, server.url + URL_SUFFIX.get(agent, "/v1"))
        proc = run(project, plan(project, agent), bin_dir)
        found = attempts(project)
        assert task_states(project) == {"good": "merged", "creep": "rejected"}, (
            proc.stdout[-3000:] + proc.stderr[-3000:] + repr(found)
        )
    assert '"""Add one to old_api of v."""' in (project / GOOD_FILE).read_text()
    message = head_message(project)
    assert f"Crewchief-Model: {MODEL}" in message and "Crewchief-Task: good" in message
    assert "Added a docstring to f." in message
    good = found["good"]
    assert good.assumptions == ("a one-line docstring is enough",)
    assert good.model == MODEL
    assert (good.cost_usd is not None) == COST_KNOWN.get(agent, False), good
    _figures(agent, server, good.duration_s, good.cost_usd)


@pytest.mark.parametrize("agent", AGENTS)
def test_an_unreachable_model_fails_the_attempt_with_the_cli_s_own_message(
    agent: str, project: Path, bin_dir: Path
) -> None:
    configure(project, agent, closed_port_url() + URL_SUFFIX.get(agent, "/v1"))
    run(project, plan(project, agent, ("good",)), bin_dir)
    attempt = attempts(project)["good"]
    assert attempt.status == "error", attempt  # not "timeout": it did not wait 240 s
    assert attempt.error and re.search(r"(?i)connect|refused|reach|network", attempt.error), attempt
    if out := os.environ.get("CREWCHIEF_AGENT_FIGURES"):
        with open(out, "a") as f:
            f.write(json.dumps({"agent": agent, "unreachable_s": round(attempt.duration_s, 1)}))
            f.write("\n")


def _own_worker(request: ModelRequest) -> Reply:
    """crewchief's own LLM worker (pydantic-ai): edit_file, then its report as final_result;
    the manager (same server) approves each hunk and proposes the merge order."""
    if "edit_file" not in request.tools:
        if '"hunks"' in request.text:
            hunks = [{"path": GOOD_FILE, "hunk": 1, "ok": True}]
            return Reply(tool=ToolCall("final_result", {"decision": "approve", "hunks": hunks}))
        order = [{"task": "good", "reason": "the only one"}]
        return Reply(tool=ToolCall("final_result", {"summary": "a docstring", "order": order}))
    if request.tool_results == 0:
        path = target(request.text)
        edit = {"path": path, "search": old_text(path), "replace": new_text(path)}
        return Reply(tool=ToolCall("edit_file", edit))
    report = {"rationale": "Added a docstring to f.", "assumptions": [DONE.split(": ", 1)[1]]}
    return Reply(tool=ToolCall("final_result", report))


def test_crewchiefs_own_llm_worker_on_the_same_task_and_server(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The baseline of the agents' figures: the same two tasks and scripted server, done by
    crewchief's own worker (its one endpoint allowed, the network otherwise off). The server is
    on loopback: this run may make model requests, to it."""
    monkeypatch.delenv("CREWCHIEF_NO_MODEL_REQUESTS")
    with ScriptedModelServer(_own_worker, model_ids=(MODEL,)) as server:
        spec = f"openai-compatible:{MODEL}@{server.url}/v1"
        models = {"worker_model": spec, "manager_model": spec}
        text = default_config(task_timeout_s=240, max_attempts=1, **models)
        (project / "crewchief.toml").write_text(text)
        git(project, "commit", "-qam", "own worker")
        path = plan(project, "codex")
        data = json.loads(path.read_text())
        for t in data["tasks"]:
            t["backend"] = "llm:worker"
        path.write_text(json.dumps(data))
        proc = run(project, path, agents_bin())
        found = attempts(project)
        # Its edit tool refuses a path outside the task's scope: the creep changes nothing.
        assert task_states(project) == {"good": "merged", "creep": "no_change"}, (
            proc.stdout[-3000:] + proc.stderr[-3000:] + repr(found)
        )
        worker = [r for r in server.model_requests() if "edit_file" in r.tools]
    assert '"""Add one to old_api of v."""' in (project / GOOD_FILE).read_text()
    assert "Crewchief-Task: good" in head_message(project)
    good = found["good"]
    assert good.assumptions == ("a one-line docstring is enough",)
    if out := os.environ.get("CREWCHIEF_AGENT_FIGURES"):
        row = {"agent": "crewchief llm:worker", "seconds": round(good.duration_s, 1),
               "requests": len(worker), "bytes_sent": sum(r.bytes for r in worker),
               "cost_known": good.cost_usd is not None}  # fmt: skip
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
