"""A real host: Claude Code (``claude -p``) with ``crewchief mcp`` configured as its MCP server,
its model a scripted Anthropic-compatible server playing the manager. The host CLI, the MCP path,
crewchief's workers, gate, integration and merge are all real; only the model is scripted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from claude_host import (
    HOST_NAME,
    MODEL,
    PREFIX,
    Manager,
    claude,
    claude_bin,
    exchanges,
    install_crewchief,
    print_session,
    readme_mcp_add,
    run_claude,
)

from model_server import ScriptedModelServer
from repo_helpers import crewchief, default_config, git, make_repo, status_json

WORKER = "scripted:crewchief.models.scripted:appender"
FILES = {
    "lib/__init__.py": "",
    "lib/model.py": "def make(x):\n    return {'x': x}\n",
    "lib/handler.py": "from lib.model import make\n\n\ndef handle(x):\n    return make(x)\n",
    "tests/test_lib.py": "from lib.handler import handle\n\n\n"
    "def test_handle():\n    assert handle(1) == {'x': 1}\n",
}
PROMPT = "Mark the model and its handler, through crewchief: plan, run, review, merge."


def task(tid: str, path: str, depends_on: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "id": tid,
        "title": f"mark {path}",
        "instructions": f"Put a marker comment at the top of {path}.",
        "owned_paths": [path],
        "depends_on": list(depends_on),
        "backend": "llm:worker",
    }


def plan(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {"goal": "mark the model and its handler", "planner": HOST_NAME, "tasks": list(tasks)}


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    assert claude_bin().exists()


def host_session(tmp_path: Path, the_plan: dict[str, Any], **config: Any) -> tuple[Path, Manager]:
    """A repository configured by ``config``, and the manager after Claude Code's session ends."""
    repo = make_repo(tmp_path / "repo", FILES, default_config(worker_model=WORKER, **config))
    manager = Manager(the_plan)
    with ScriptedModelServer(manager, model_ids=(MODEL,)) as server:
        result = run_claude(repo, PROMPT, server.url, tmp_path / "home")
        assert len(server.model_requests()) == len(manager.requests)
    assert not result["is_error"], result
    # The session ended on the manager's last word, after merge_run, not on a refusal.
    assert result["result"].startswith("merge_run answered:"), result["result"]
    return repo, manager


def test_claude_code_plans_runs_reviews_and_merges_through_crewchief(tmp_path: Path) -> None:
    two = plan(task("model", "lib/model.py"), task("handler", "lib/handler.py", ("model",)))
    repo, manager = host_session(tmp_path, two, mcp_may_merge=True, protected_paths=[])
    done = exchanges(manager.requests[-1])
    called = [e.tool.removeprefix(PREFIX) for e in done]
    # Claude Code ran every call the model made and sent its result back, none an error.
    assert [e.call_id for e in done] == manager.call_ids
    assert not [e for e in done if e.is_error], done
    assert called[:3] == ["ToolSearch", "validate_plan", "start_run"]
    assert called.count("review_task") == 2 and called[-1] == "merge_run"
    assert done[-1].data()["merged"] is True
    run = done[2].data()["run"]
    status = status_json(repo, run)
    assert status["state"] == "merged"
    assert git(repo, "rev-parse", "main") == status["integration"]
    assert git(repo, "show", "main:lib/model.py").startswith("# touched by a scripted worker")
    assert [(t["task"], t["verdict"]) for t in status["task_list"]] == [
        ("model", "approve"),
        ("handler", "approve"),
    ]
    base = git(repo, "rev-list", "--max-parents=0", "main")
    trailers = git(repo, "log", "--format=%(trailers:key=Crewchief-Run,key=Crewchief-Task)",
                   f"{base}..main")  # fmt: skip
    assert trailers.split("\n\n") == [
        f"Crewchief-Run: {run}\nCrewchief-Task: handler",
        f"Crewchief-Run: {run}\nCrewchief-Task: model",
    ]
    report = json.loads(crewchief(repo, "report", run, "--json").stdout)
    reviewers = {t["task"]: [v["reviewer"] for v in t["verdicts"]] for t in report["tasks"]}
    assert reviewers == {t: [f"manager:host:{HOST_NAME}"] for t in ("model", "handler")}


def test_claude_code_is_told_what_a_person_must_do_to_merge_a_protected_path(
    tmp_path: Path,
) -> None:
    one = plan(task("model", "lib/model.py"))
    protected = {"mcp_may_merge": True, "protected_paths": ["lib/model.py"]}
    repo, manager = host_session(tmp_path, one, **protected)
    done = exchanges(manager.requests[-1])
    assert [e.call_id for e in done] == manager.call_ids
    merge = done[-1]
    assert merge.tool == PREFIX + "merge_run" and not merge.is_error
    run = merge.arguments["run"]
    answer = merge.data()  # what Claude Code handed the model back
    assert answer["merged"] is False
    assert answer["needs_a_person"] == ["model"]
    assert "lib/model.py matches protected path lib/model.py" in answer["reason"]
    assert f"crewchief review {run}" in answer["a_person_must_run"]
    assert f"crewchief merge {run}" in answer["a_person_must_run"]
    assert status_json(repo, run)["state"] == "awaiting_approval"
    assert git(repo, "rev-list", "--count", "main") == "1"  # nothing landed


def test_claude_code_drives_crewchief_registered_by_the_readmes_claude_mcp_add(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", FILES, default_config(worker_model=WORKER))
    home = tmp_path / "home"
    install_crewchief(home)
    manager = Manager(plan(task("model", "lib/model.py")), last_tool="validate_plan")
    with ScriptedModelServer(manager, model_ids=(MODEL,)) as server:
        add = readme_mcp_add(repo)
        assert add[:4] == ["claude", "mcp", "add", "crewchief"]
        claude(repo, home, server.url, *add[1:])
        shown = claude(repo, home, server.url, "mcp", "get", "crewchief").stdout
        result = print_session(repo, PROMPT, server.url, home)  # no --mcp-config
    # Registered in the private config dir, for this repository (the default, local, scope) ...
    config = json.loads((home / ".claude" / ".claude.json").read_text())
    server_args = ["mcp", "--repo", str(repo), "--host-name", HOST_NAME]
    registered = config["projects"][str(repo)]["mcpServers"]["crewchief"]
    assert (registered["command"], registered["args"]) == ("crewchief", server_args)
    # ... where Claude Code found it and started it: its health check connected.
    assert "Scope: Local config" in shown, shown
    assert "Status: ✔ Connected" in shown, shown
    assert f"Args: {' '.join(server_args)}" in shown, shown
    # The session without --mcp-config had crewchief's tools, and its call was answered.
    assert not result["is_error"], result
    assert result["result"].startswith("validate_plan answered:"), result["result"]
    done = exchanges(manager.requests[-1])
    assert [e.call_id for e in done] == manager.call_ids
    assert [e.tool for e in done] == ["ToolSearch", PREFIX + "validate_plan"]
    assert done[-1].data() == {"valid": True, "problems": [], "predicted_conflicts": []}
