"""``crewchief mcp`` driven by the real MCP client of the ``mcp`` SDK over stdio: a host agent
plans, crewchief's scripted LLM workers edit, the host reviews through the tools.

Starting a server costs seconds: the tests that only ask share one session on one repository
(``host``), and the tests of what a host sees along one single-task run share that run
(``single_run``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp_host import HOST, Body, call, error_of, host_session, wait_status, with_host

from repo_helpers import crewchief_here, default_config, git, make_repo, status_json

WORKER = "scripted:crewchief.models.scripted:appender"
TOOLS = {
    "project_context",
    "validate_plan",
    "start_run",
    "run_status",
    "task_dossier",
    "review_task",
    "merge_run",
    "blame_line",
}
FILES = {
    "lib/__init__.py": "",
    "lib/model.py": "def make(x):\n    return {'x': x}\n",
    "lib/handler.py": "from lib.model import make\n\n\ndef handle(x):\n    return make(x)\n",
    "tests/test_lib.py": "from lib.handler import handle\n\n\n"
    "def test_handle():\n    assert handle(1) == {'x': 1}\n",
}


def repo_with(tmp_path: Path, **config: Any) -> Path:
    return make_repo(tmp_path / "repo", FILES, default_config(worker_model=WORKER, **config))


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
    return {"goal": "mark the model and its handler", "planner": HOST, "tasks": list(tasks)}


TWO_LAYERS = plan(task("model", "lib/model.py"), task("handler", "lib/handler.py", ("model",)))


@pytest.fixture(scope="module")
def quiet_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository no run ever starts in (the plans given to it are refused)."""
    return repo_with(tmp_path_factory.mktemp("quiet"))


@pytest.fixture(scope="module")
def host(quiet_repo: Path) -> Iterator[Callable[[Body], None]]:
    """One session with ``crewchief mcp`` serving ``quiet_repo``, for the tests that only ask."""
    with host_session(quiet_repo) as run_body:
        yield run_body


def test_the_tools_are_listed_with_descriptions_and_schemas(
    host: Callable[[Body], None],
) -> None:
    async def body(session: ClientSession) -> None:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        assert all(t.description and len(t.description) > 40 for t in tools.values())
        plan_schema = tools["validate_plan"].input_schema["properties"]["plan"]
        assert set(plan_schema["required"]) >= {"goal", "planner", "tasks"}
        assert "owned_paths" in plan_schema["properties"]["tasks"]["items"]["properties"]
        decision = tools["review_task"].input_schema["properties"]["decision"]
        assert decision["enum"] == ["approve", "revise", "reject"]
        assert tools["review_task"].input_schema["required"] == ["run", "task", "decision"]

    host(body)


def test_project_context_gives_the_symbol_map_and_the_commands(
    host: Callable[[Body], None],
) -> None:
    async def body(session: ClientSession) -> None:
        context = await call(session, "project_context", focus=["lib/handler.py"])
        assert "handle" in context["symbol_map"]
        assert "pytest" in context["test_command"]
        assert context["worker_backend"] == "llm:worker"

    host(body)


def test_a_plan_with_a_cycle_is_refused_with_the_clis_message(
    quiet_repo: Path, host: Callable[[Body], None], tmp_path: Path
) -> None:
    repo = quiet_repo
    cyclic = plan(task("a", "lib/model.py", ("b",)), task("b", "lib/handler.py", ("a",)))
    (tmp_path / "plan.json").write_text(json.dumps(cyclic))
    cli = crewchief_here(repo, "run", "--plan", str(tmp_path / "plan.json"))
    assert cli.returncode == 2
    message = " ".join(cli.stderr.split())

    async def body(session: ClientSession) -> None:
        checked = await call(session, "validate_plan", plan=cyclic)
        assert not checked["valid"]
        assert checked["problems"] == ["dependency cycle: a → b → a"]
        assert await error_of(session, "start_run", plan=cyclic) == message

    host(body)
    assert not (repo / ".crewchief" / "ledger.db").exists()  # nothing was recorded


def test_a_plan_owning_a_path_outside_the_repository_is_refused(
    quiet_repo: Path, host: Callable[[Body], None], tmp_path: Path
) -> None:
    outside = plan(task("a", "../outside.py"))
    (tmp_path / "plan.json").write_text(json.dumps(outside))
    cli = crewchief_here(quiet_repo, "run", "--plan", str(tmp_path / "plan.json"))
    assert cli.returncode == 2
    reason = " ".join(cli.stderr.split()).split(": not a valid plan: ", 1)[1]

    async def body(session: ClientSession) -> None:
        checked = await call(session, "validate_plan", plan=outside)
        assert checked["problems"] == [f"plan: not a valid plan: {reason}"]
        refused = await error_of(session, "start_run", plan=outside)
        assert refused == f"error: plan: not a valid plan: {reason}"
        assert "'../outside.py' must be repository-relative" in reason

    host(body)
    assert not (quiet_repo / ".crewchief" / "ledger.db").exists()  # nothing was recorded


def _awaits(task_id: str) -> Any:
    return lambda s: task_id in s["awaiting_review"]


def test_a_host_runs_reviews_and_merges_a_plan_to_a_commit_with_trailers(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, mcp_may_merge=True)
    base = git(repo, "rev-parse", "main")

    async def body(session: ClientSession) -> None:
        assert (await call(session, "validate_plan", plan=TWO_LAYERS))["valid"]
        started = await call(session, "start_run", plan=TWO_LAYERS)
        run = started["run"]
        assert started["reviewer"] == "external"
        await wait_status(session, run, _awaits("model"))
        dossier = await call(session, "task_dossier", run=run, task="model")
        assert "+# touched by a scripted worker" in dossier["diff"]
        assert dossier["owned_paths"] == ["lib/model.py"]
        assert dossier["rationale"] and dossier["transcript"]["tool_calls"]["edit_file"] == 1
        assert all(c["passed"] for c in dossier["checks"])
        await call(
            session,
            "review_task",
            run=run,
            task="model",
            decision="revise",
            feedback="Say why in the comment.",
        )
        await wait_status(session, run, _awaits("model"))
        second = await call(session, "task_dossier", run=run, task="model")
        assert second["attempts"] == 2
        await call(session, "review_task", run=run, task="model", decision="approve")
        await wait_status(session, run, _awaits("handler"))
        await call(session, "review_task", run=run, task="handler", decision="approve")
        await wait_status(session, run, lambda s: s["state"] == "awaiting_approval")
        merged = await call(session, "merge_run", run=run)
        assert merged["merged"] is True
        status = await call(session, "run_status", run=run)
        assert status["state"] == "merged"
        verdicts = [t["verdict"] for t in status["task_list"]]
        assert verdicts == ["approve", "approve"]
        origin = await call(session, "blame_line", path="lib/model.py", line=1)
        assert origin[0]["task"] == "model" and origin[0]["run"] == run

    with_host(repo, body)
    log = git(repo, "log", "--format=%(trailers:key=Crewchief-Task,valueonly)", f"{base}..main")
    assert log.split() == ["handler", "model"]
    assert git(repo, "show", "main:lib/model.py").startswith("# touched by a scripted worker")


def test_merging_a_protected_path_is_left_to_a_person(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, mcp_may_merge=True, protected_paths=["lib/model.py"])
    base = git(repo, "rev-parse", "main")
    single = plan(task("model", "lib/model.py"))

    async def body(session: ClientSession) -> None:
        run = (await call(session, "start_run", plan=single))["run"]
        await wait_status(session, run, _awaits("model"))
        await call(session, "review_task", run=run, task="model", decision="approve")
        await wait_status(session, run, lambda s: s["state"] == "awaiting_approval")
        refused = await call(session, "merge_run", run=run)
        assert refused["merged"] is False
        assert refused["needs_a_person"] == ["model"]
        assert "lib/model.py matches protected path lib/model.py" in refused["reason"]
        assert f"crewchief review {run}" in refused["a_person_must_run"]
        status = await call(session, "run_status", run=run)
        assert status["awaiting_decision"] == ["model"]

    with_host(repo, body)
    assert git(repo, "rev-parse", "main") == base


def test_a_recipe_run_goes_on_after_the_host_disconnects(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    started: dict[str, Any] = {}
    codemod = {"lang": "python", "pattern": "make($X)", "rewrite": "make(x=$X)"}

    async def start(session: ClientSession) -> None:
        started.update(
            await call(
                session, "start_run", recipe="codemod", recipe_args=codemod, review_by_host=False
            )
        )

    async def follow(session: ClientSession) -> None:
        status = await wait_status(
            session, started["run"], lambda s: s["state"] == "awaiting_approval"
        )
        assert status["goal"].startswith("codemod")
        assert [t["verdict"] for t in status["task_list"]] == ["approve"]

    with_host(repo, start)  # the host's session ends here; the run's own process goes on
    with_host(repo, follow)
    integration = status_json(repo, started["run"])["integration"]
    assert "make(x=x)" in git(repo, "show", f"{integration}:lib/handler.py")


SINGLE = plan(task("model", "lib/model.py"))


async def _answer(session: ClientSession, tool: str, **args: Any) -> tuple[bool, str]:
    """Whether ``tool`` answered an error, and its text."""
    result = await session.call_tool(tool, args)
    return result.is_error, "".join(getattr(c, "text", "") for c in result.content)


@pytest.fixture(scope="module")
def single_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a host sees along one single-task run it reviews (mcp_may_merge off): a review of
    a task the run lacks, run_status waits up to the patch awaiting review, a revision without
    feedback, an approval with a reason, the wait for the run to await a person, the task's
    dossier and a merge the host may not do."""
    repo = repo_with(tmp_path_factory.mktemp("single"))
    seen: dict[str, Any] = {}

    async def body(session: ClientSession) -> None:
        run = seen["run"] = (await call(session, "start_run", plan=SINGLE))["run"]
        seen["unknown task"] = await _answer(
            session, "review_task", run=run, task="nope", decision="approve"
        )
        answers: list[tuple[float, dict[str, Any]]] = []
        while not answers or not answers[-1][1]["awaiting_review"]:
            asked = time.monotonic()
            status = await call(session, "run_status", run=run, wait_s=5)
            answers.append((time.monotonic() - asked, status))
            if status["state"] not in ("planned", "running"):
                break  # the test says what went wrong
        seen["waits for review"] = answers
        seen["revise without feedback"] = await _answer(
            session, "review_task", run=run, task="model", decision="revise"
        )
        await call(
            session,
            "review_task",
            run=run,
            task="model",
            decision="approve",
            reasons=["the marker is there"],
        )
        asked = time.monotonic()
        done = await call(session, "run_status", run=run, wait_s=60)
        seen["wait for a person"] = (time.monotonic() - asked, done)
        await wait_status(session, run, lambda s: s["state"] == "awaiting_approval")
        seen["dossier"] = await call(session, "task_dossier", run=run, task="model")
        seen["merge"] = await call(session, "merge_run", run=run)

    with_host(repo, body)
    return seen


def test_reviewing_a_task_that_awaits_no_review_is_a_tool_error(
    single_run: dict[str, Any],
) -> None:
    assert single_run["unknown task"] == (True, f"error: run {single_run['run']} has no task nope")
    is_error, text = single_run["revise without feedback"]
    assert is_error and text.startswith("error: a revision needs feedback"), text


def test_a_waiting_run_status_answers_when_the_host_is_needed_or_at_its_deadline(
    single_run: dict[str, Any],
) -> None:
    answers = single_run["waits for review"]
    assert all(s["state"] in ("planned", "running") for _, s in answers), answers
    # Each answer came when a patch awaited review, or not before the wait was over.
    assert all(s["awaiting_review"] or took >= 5 for took, s in answers), answers
    assert answers[-1][1]["awaiting_review"] == ["model"]
    took, done = single_run["wait for a person"]
    assert done["state"] == "awaiting_approval" or took >= 60, (took, done["state"])


def test_the_host_is_named_as_the_managers_reviewer(single_run: dict[str, Any]) -> None:
    dossier, refused, run = single_run["dossier"], single_run["merge"], single_run["run"]
    assert dossier["verdicts"][-1]["reviewer"] == f"manager:host:{HOST}"
    assert dossier["verdicts"][-1]["reasons"] == ["the marker is there"]
    assert refused["merged"] is False
    assert "mcp_may_merge is off" in refused["reason"]
    assert f"crewchief merge {run}" in refused["a_person_must_run"]
