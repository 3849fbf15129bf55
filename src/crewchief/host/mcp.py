"""``crewchief mcp``: the host operations (``crewchief.host.operations``) as Model Context Protocol
tools over stdio, with the official ``mcp`` SDK.

Each tool has a JSON schema built from its annotated parameters and a description written for a
model. A refusal (a ``CrewchiefError``) comes back as an MCP tool error carrying the CLI's
one-line message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, ParamSpec, TypeVar

from pydantic import Field, JsonValue, WithJsonSchema

from crewchief.errors import CrewchiefError
from crewchief.host import operations as ops
from crewchief.records import Plan

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from mcp_types import CallToolResult

P = ParamSpec("P")
R = TypeVar("R")

INSTRUCTIONS = """\
crewchief runs your plan with its own workers, each in its own git worktree, gates every patch
(policy, checks, your review), integrates them in order and runs the full suite. You plan and
review as the manager. Typical flow: project_context → write a plan → validate_plan → start_run →
poll run_status → for each task under awaiting_review: task_dossier, then review_task →
when the run awaits approval: merge_run (it tells you what a person must do when you may not)."""


def inline_schema(model: type[Plan]) -> dict[str, Any]:
    """``model``'s JSON schema with every ``$ref`` replaced by its definition, so that it can sit
    inside a tool's input schema."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                return resolve(defs[ref.rsplit("/", 1)[-1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


PlanArg = Annotated[
    dict[str, Any],
    WithJsonSchema(inline_schema(Plan)),
    Field(
        description="A plan: goal, planner (your name), tasks. Each task: id, title, "
        "instructions (what the worker must do), owned_paths (repository-relative files, or "
        "folders ending in /, the only paths it may edit), context_paths, depends_on (ids), "
        "risk (low|medium|high), checks (commands from project_context), backend "
        "(worker_backend from project_context)."
    ),
]
RunIdArg = Annotated[str, Field(description="Run id (or a unique prefix) from start_run.")]
TaskIdArg = Annotated[str, Field(description="Task id from the plan.")]
#: The longest a run_status call may wait (a host's tool call should not hang for long).
MAX_WAIT_S = 60


def tool_errors(fn: Callable[P, R]) -> Callable[P, R | CallToolResult]:
    """``fn`` with crewchief's refusals answered as MCP tool errors whose text is the CLI's
    one-line message, unchanged (a raised error would get the SDK's own prefix)."""
    from mcp_types import CallToolResult, TextContent

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | CallToolResult:
        try:
            return fn(*args, **kwargs)
        except CrewchiefError as e:
            text = TextContent(type="text", text=f"error: {e}")
            return CallToolResult(content=[text], is_error=True)

    return wrapper


def build(repo: Path, host_name: str) -> MCPServer[Any]:
    """The MCP server for ``repo``; verdicts are recorded with ``host_name`` as reviewer."""
    from mcp.server.mcpserver import MCPServer

    host = ops.Host(repo, host_name)
    server = MCPServer("crewchief", instructions=INSTRUCTIONS)
    for fn in _tools(host):
        server.add_tool(tool_errors(fn), description=(fn.__doc__ or "").strip())
    return server


def _tools(host: ops.Host) -> list[Callable[..., Any]]:
    def project_context(
        focus: Annotated[
            list[str], Field(description="Files or folders the change is about.")
        ] = [],  # noqa: B006
        tokens: Annotated[int, Field(ge=256, le=32768, description="Map size in tokens.")] = 2048,
    ) -> dict[str, Any]:
        """Read this first. The project's architecture summary, the ranked map of its most used
        symbols centred on `focus`, the full test command and fast checks a task's checks may
        use, the worker backend to put in each task, and the risk levels workers may take."""
        return ops.project_context(host, focus, tokens)

    def validate_plan(plan: PlanArg) -> dict[str, Any]:
        """Check a plan without running anything: returns valid, every problem (unknown or
        cyclic dependencies, duplicate ids, tasks owning nothing, paths outside the repository,
        too many tasks) and every predicted conflict (tasks that may run in parallel yet own
        the same paths). Fix the problems, then call start_run with the same plan."""
        return ops.validate_plan(host, json.dumps(plan))

    def start_run(
        plan: Annotated[
            dict[str, Any] | None,
            WithJsonSchema({"anyOf": [inline_schema(Plan), {"type": "null"}]}),
            Field(description="The plan to run (see validate_plan); or null with a recipe."),
        ] = None,
        recipe: Annotated[
            str | None, Field(description="Instead of a plan: a recipe (codemod, command).")
        ] = None,
        recipe_args: Annotated[
            dict[str, JsonValue], Field(description="The recipe's arguments.")
        ] = {},  # noqa: B006
        goal: Annotated[str | None, Field(description="The change, in one line.")] = None,
        review_by_host: Annotated[
            bool,
            Field(description="You review each patch with review_task (the run waits for you)."),
        ] = True,
    ) -> dict[str, Any]:
        """Start a run from a plan (or a recipe). It is validated exactly as by crewchief run
        --plan, recorded, then driven by a background crewchief process that survives this
        session. Returns the run id; poll run_status."""
        text = None if plan is None else json.dumps(plan)
        return ops.start(host, text, recipe, recipe_args, goal, review_by_host)

    def run_status(
        run: Annotated[str | None, Field(description="Run id or prefix; null: newest.")] = None,
        wait_s: Annotated[
            float,
            Field(
                ge=0,
                le=MAX_WAIT_S,
                description="Wait up to this many seconds for a patch to await your review or "
                "the run to stop running, then answer (0: answer now). Saves polling turns.",
            ),
        ] = 0,
    ) -> dict[str, Any]:
        """A run's state and each task's state, attempts, checks and verdict; awaiting_review
        lists the tasks whose patch waits for your review_task; awaiting_decision the tasks a
        person (or merge_run) must approve; cost; and what to do next. Follow a run with
        wait_s instead of calling this in a tight loop."""
        return ops.status(host, run, wait_s)

    def task_dossier(run: RunIdArg, task: TaskIdArg) -> dict[str, Any]:
        """Everything to review one task: its instructions and owned paths, the diff under
        review, the gate's checks with the end of their output, the worker's rationale and
        assumptions, a summary of its transcript, its cost and earlier verdicts."""
        return ops.dossier(host, run, task)

    def review_task(
        run: RunIdArg,
        task: TaskIdArg,
        decision: Annotated[
            Literal["approve", "revise", "reject"],
            Field(description="approve the patch, revise (another attempt with feedback), reject."),
        ],
        feedback: Annotated[
            str | None,
            Field(description="For revise: what the worker must change (its next instruction)."),
        ] = None,
        reasons: Annotated[list[str], Field(description="Why, in short lines.")] = [],  # noqa: B006
    ) -> dict[str, Any]:
        """Your verdict as the manager on the patch of a task listed under awaiting_review.
        It is recorded with you named as reviewer; the run goes on (a revision starts a new
        attempt). An approved patch still goes through integration, the suite and the human
        gate."""
        return ops.review(host, run, task, decision, feedback, reasons)

    def merge_run(run: RunIdArg) -> dict[str, Any]:
        """Approve and merge a run awaiting approval, exactly as crewchief run --yes would:
        only when the project enables it (mcp_may_merge) and no task needs a person (protected
        or sensitive paths, high risk). Otherwise nothing changes and the answer says what a
        person must run."""
        return ops.merge(host, run)

    def blame_line(
        path: Annotated[str, Field(description="Repository-relative file.")],
        line: Annotated[int, Field(ge=1, description="First line (1-based).")],
        last_line: Annotated[int | None, Field(ge=1, description="Last line; null: same.")] = None,
        rev: Annotated[str, Field(description="Revision to blame.")] = "HEAD",
    ) -> list[dict[str, Any]]:
        """Where lines came from: commit, run, task, attempt, worker, model, and the exact
        instruction (with whether its digest still matches)."""
        return ops.blame(host, path, line, last_line or line, rev)

    return [
        project_context,
        validate_plan,
        start_run,
        run_status,
        task_dossier,
        review_task,
        merge_run,
        blame_line,
    ]


def serve(repo: Path, host_name: str) -> None:
    """Serve the tools over stdio until the host closes the connection."""
    build(repo, host_name).run("stdio")
