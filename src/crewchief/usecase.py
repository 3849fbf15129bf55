"""The use case every interface calls: plan a change, start a run from it, drive it, finish it,
merge it, or hand it to a background driver. The CLI, the review page and the MCP server parse
their input, call one of these, and render what comes back; none of them builds the
orchestrator or repeats a check.

A run ends, for whoever drove or merged it, in an :class:`Outcome`: its state, whether it merged,
what needs a person, why it failed or paused. The CLI maps it to text and an exit code, the MCP
server to JSON, the page to a redirect.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import JsonValue

from crewchief.config import Config
from crewchief.errors import UserError
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RUN_WITH_WORK, TASK_DEAD, RunState, TaskState
from crewchief.merge import land
from crewchief.merge.reconcile import reconcile
from crewchief.records import ChangeRequest, ModelWork, Plan
from crewchief.run.intake import checked, load_plan_file, make_plan, open_run, parse_plan, preflight
from crewchief.run.plan import predicted_conflicts

if TYPE_CHECKING:
    from crewchief.backends.base import Planner
    from crewchief.gate.verify import Reviewer

#: Task states that mean a task did not make it into the run's result.
DROPPED = TASK_DEAD - {TaskState.CANCELLED}


@dataclass(frozen=True)
class Change:
    """What a person asked for, as an interface parsed it: a ``goal`` for the manager, a
    ``recipe`` with its arguments, or a plan (``plan_file``, or ``plan_json`` as given)."""

    goal: str | None = None
    focus: tuple[str, ...] = ()
    recipe: str | None = None
    recipe_args: Mapping[str, JsonValue] = field(default_factory=dict)
    plan_file: Path | None = None
    plan_json: str | None = None


@dataclass(frozen=True)
class PlannedChange:
    """A validated plan that runs nothing. ``conflicts``: predicted overlaps; ``held``: tasks
    above ``worker_risk_levels`` (left for people); ``recorded_run``: the run (state planned)
    holding the manager's planning calls, when a model planned it."""

    plan: Plan
    conflicts: tuple[str, ...]
    held: tuple[str, ...]
    recorded_run: str | None


@dataclass(frozen=True)
class StartedRun:
    """A run recorded with its plan (or reopened), before any worker ran. ``reviewer`` is what
    reviews its patches (None: the rule reviewer alone); ``conflicts`` the predicted overlaps;
    ``held`` the tasks left for people; ``cfg`` the configuration it is driven with."""

    ledger: Ledger
    run_id: str
    plan: Plan
    reviewer: Reviewer | None
    conflicts: tuple[str, ...]
    held: tuple[str, ...]
    cfg: Config


@dataclass(frozen=True)
class Outcome:
    """Where a run stands once an interface is done with it.

    ``landing``: the target branch moved in this call. ``needs_person``: the tasks left for a
    person's decision, with why. ``dropped``: tasks that did not make it (failed, rejected,
    conflicted, blocked). ``paused``: the budget stop that paused the run (resume with new
    budgets). ``reason``: why the run is held (interrupted) or failed. ``refused``: why this call
    did not approve or merge (nothing was changed)."""

    run_id: str
    state: RunState
    landing: land.Landing | None = None
    needs_person: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dropped: tuple[str, ...] = ()
    paused: str | None = None
    reason: str | None = None
    refused: str | None = None

    @property
    def merged(self) -> bool:
        return self.state == RunState.MERGED


# -- planning -----------------------------------------------------------------------------------


def change_request(change: Change) -> ChangeRequest:
    """The request behind a goal or a recipe; UserError when it names neither."""
    if change.recipe is not None:
        import json

        args = dict(change.recipe_args)
        text = change.goal or f"{change.recipe}: {json.dumps(args)}"
        return ChangeRequest(goal=text, recipe=change.recipe, recipe_args=args, focus=change.focus)
    if not change.goal:
        raise UserError("say what to change (a GOAL for the manager), or pass --recipe or --plan")
    return ChangeRequest(goal=change.goal, focus=change.focus)


def _request_and_plan(change: Change, cfg: Config) -> tuple[ChangeRequest, Plan | None]:
    if change.plan_file is not None:
        plan = load_plan_file(change.plan_file, cfg)
    elif change.plan_json is not None:
        plan = parse_plan(change.plan_json, "plan")
    else:
        return change_request(change), None
    return ChangeRequest(goal=change.goal or plan.goal, focus=change.focus), plan


def planner_for(request: ChangeRequest, cfg: Config) -> Planner:
    """A recipe's planner, or the manager model (its models checked before any work)."""
    if request.recipe is not None:
        from crewchief.backends.base import load_recipe

        return load_recipe(request.recipe).planner
    from crewchief.llm import roles

    roles.check_models(cfg, workers=cfg.worker_backend.startswith("llm:"))
    return roles.planner(cfg)


def plan_request(root: Path, request: ChangeRequest, cfg: Config) -> Plan:
    """The planner's validated plan for ``request`` (UserError naming every problem), with the
    planning's model work (``Plan.work``)."""
    return make_plan(root, request, planner_for(request, cfg), cfg)


def record_planning(ledger: Ledger, run_id: str, work: ModelWork) -> None:
    """The manager's planning calls and conversation (``Plan.work``), once the run exists to
    hold them; nothing for a plan no model made."""
    ledger.record_calls(run_id, work.calls)
    ledger.record_transcript(run_id, "manager", work.transcript)


def held_tasks(plan: Plan, cfg: Config) -> tuple[str, ...]:
    """The tasks above ``worker_risk_levels``: no worker takes them, people do."""
    return tuple(t.id for t in plan.tasks if t.risk not in cfg.worker_risk_levels)


def plan_change(root: Path, cfg: Config, change: Change) -> PlannedChange:
    """Plan only (``crewchief plan``): the validated plan; a model's planning calls are kept
    in a run of their own (state planned) so that their cost is not lost. Nothing runs."""
    request = change_request(change)
    plan = plan_request(root, request, cfg)
    recorded: str | None = None
    if plan.work.calls:
        ledger = Ledger.for_repo(root)
        recorded = ledger.create_run(request, "", "", cfg.model_dump_json())
        ledger.record_plan(recorded, plan)
        record_planning(ledger, recorded, plan.work)
    return PlannedChange(plan, tuple(predicted_conflicts(plan)), held_tasks(plan, cfg), recorded)


# -- models and reviewers -----------------------------------------------------------------------


def check_models(cfg: Config, plan: Plan) -> None:
    """Every model the run will use is configured and reachable; UserError before any work.
    An external reviewer needs no manager model, only the workers' model."""
    llm_tasks = any(t.backend.startswith("llm:") for t in plan.tasks)
    if cfg.reviewer == "external":
        if llm_tasks:
            from crewchief.models.providers import check_ready

            if not cfg.worker_model:
                raise UserError("no worker model: set worker_model (e.g. openai:gpt-4.1-mini)")
            check_ready({"worker": cfg.worker_model})
        return
    if cfg.manager_model or cfg.reviewer_model or llm_tasks:
        from crewchief.llm import roles

        roles.check_models(cfg, workers=llm_tasks)


def reviewer_for(cfg: Config, plan: Plan, ledger: Ledger, run_id: str) -> Reviewer | None:
    """What reviews the run's patches: the host agent when ``cfg.reviewer`` is external (the run
    waits for its verdicts); else the manager (or reviewer model) when a model is configured;
    else None (the rule reviewer alone). Models are not checked here: ``check_models`` does."""
    if cfg.reviewer == "external":
        from crewchief.gate.external_review import ExternalReviewer

        return ExternalReviewer(ledger, run_id)
    llm_tasks = any(t.backend.startswith("llm:") for t in plan.tasks)
    if not (cfg.manager_model or cfg.reviewer_model or llm_tasks):
        return None
    from crewchief.llm import roles

    reviewer = roles.reviewer(cfg)
    reviewer.plan = plan
    return reviewer


def resume_reviewer(cfg: Config, ledger: Ledger, run_id: str) -> Reviewer | None:
    """The reviewer of an existing run, its models checked (what ``resume`` drives with)."""
    plan = ledger.plan(run_id)
    check_models(cfg, plan)
    return reviewer_for(cfg, plan, ledger, run_id)


# -- starting and driving -----------------------------------------------------------------------


def start_change(root: Path, cfg: Config, change: Change) -> StartedRun:
    """``start_run`` for what an interface parsed: a goal, a recipe, or a plan."""
    request, plan = _request_and_plan(change, cfg)
    return start_run(root, cfg, request, plan)


def start_run(
    root: Path,
    cfg: Config,
    request: ChangeRequest,
    plan: Plan | None = None,
    planner: Planner | None = None,
) -> StartedRun:
    """Record a new run: ``plan`` validated as given, or planned from ``request`` (by
    ``planner``, else a recipe or the manager). The repository, the plan, every model and the
    sandbox are checked before anything is written; the planning calls are recorded with the
    run. Nothing is driven yet."""
    from crewchief.sandbox import requirement as sandbox_policy

    target, base = preflight(root, cfg)
    if plan is not None:
        plan = checked(plan, cfg)
    elif planner is not None:
        plan = make_plan(root, request, planner, cfg)
    else:
        plan = plan_request(root, request, cfg)
    check_models(cfg, plan)
    sandbox_policy.require(cfg, plan)  # no sandbox, no run: refused before anything is written
    ledger, run_id = open_run(root, request, plan, cfg, target, base)
    record_planning(ledger, run_id, plan.work)
    reviewer = reviewer_for(cfg, plan, ledger, run_id)
    conflicts = tuple(predicted_conflicts(plan))
    return StartedRun(ledger, run_id, plan, reviewer, conflicts, held_tasks(plan, cfg), cfg)


def reopen_run(
    root: Path,
    ledger: Ledger,
    run_id: str,
    cfg: Config,
    run_budget_usd: float | None = None,
    task_budget_usd: float | None = None,
) -> StartedRun | None:
    """An existing run made ready to drive again (``resume``): an interrupted landing settled
    (None: it had landed, now recorded; nothing to drive), new budgets validated and recorded,
    its models checked and its reviewer built."""
    if reconcile(root, ledger, run_id) == "merged":
        return None
    changed = {
        k: v
        for k, v in (("run_budget_usd", run_budget_usd), ("task_budget_usd", task_budget_usd))
        if v is not None
    }
    if changed:
        cfg = cfg.model_copy(update=changed)
        Config.model_validate(cfg.model_dump())  # the new values obey the limits
        ledger.update_config(run_id, cfg.model_dump_json(), dict(changed))
    plan = ledger.plan(run_id)
    check_models(cfg, plan)
    reviewer = reviewer_for(cfg, plan, ledger, run_id)
    conflicts = tuple(predicted_conflicts(plan))
    return StartedRun(ledger, run_id, plan, reviewer, conflicts, held_tasks(plan, cfg), cfg)


def drive(
    root: Path, ledger: Ledger, run_id: str, cfg: Config, reviewer: Reviewer | None
) -> RunState:
    """Drive ``run_id`` up to the human gate in this process (resuming what was done)."""
    from crewchief.attempts.executor_choice import (
        make_executor,  # the driver's weight: driving only
    )
    from crewchief.run.orchestrate import Orchestrator

    return Orchestrator(root, ledger, cfg, make_executor(cfg), reviewer).drive(run_id)


def driver_log(repo: Path, run_id: str) -> Path:
    """Where a background driver of ``run_id`` writes its output."""
    from crewchief.attempts.workspace import crewchief_dir

    return crewchief_dir(repo) / "web" / f"resume-{run_id}.log"


def start_driver(repo: Path, run_id: str) -> int:
    """``crewchief resume RUN`` in its own session (it outlives the caller), its output in
    ``driver_log``; a daemon thread reaps it if it ends while the caller lives. Returns its pid.
    The child takes the run's lock itself."""
    log = driver_log(repo, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crewchief", "resume", run_id, "--repo", str(repo)],
            cwd=repo,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    threading.Thread(target=proc.wait, name=f"reap-resume-{proc.pid}", daemon=True).start()
    return proc.pid


def drive_in_background(repo: Path, ledger: Ledger, run_id: str, who: str) -> int:
    """Hand ``run_id`` to a background driver (``start_driver``) and record who asked; returns
    its pid. UserError when the run has nothing to resume or another process drives it now."""
    from crewchief.run.runlock import run_lock

    state = ledger.run(run_id).state
    if state not in RUN_WITH_WORK:
        raise UserError(f"run {run_id} is {state}: there is nothing to resume")
    with run_lock(repo, run_id):
        pass  # nobody is driving it now (the child takes the lock itself)
    pid = start_driver(repo, run_id)
    ledger.event(run_id, "resume_requested", {"who": who, "pid": pid})
    return pid


# -- ending ---------------------------------------------------------------------------------------


def outcome(
    ledger: Ledger,
    run_id: str,
    *,
    landing: land.Landing | None = None,
    needs_person: Mapping[str, tuple[str, ...]] | None = None,
    refused: str | None = None,
) -> Outcome:
    """Where ``run_id`` stands, read from the ledger."""
    state = ledger.run(run_id).state
    dropped = tuple(t for t, s in ledger.task_states(run_id).items() if s in DROPPED)
    events = ledger.event_records(run_id)
    stops = [e.data for e in events if e.kind == "budget_stop"]
    last = next((e.data for e in reversed(events) if e.kind == "run_state"), {})
    paused = str(stops[-1]["reason"]) if state == RunState.INTERRUPTED and stops else None
    stopped = state in (RunState.INTERRUPTED, RunState.FAILED) and last.get("reason")
    reason = str(last["reason"]) if stopped else None
    return Outcome(run_id, state, landing, needs_person or {}, dropped, paused, reason, refused)


def needing_person(
    ledger: Ledger, run_id: str, cfg: Config, tasks: list[str]
) -> dict[str, tuple[str, ...]]:
    """Those of ``tasks`` that need an explicit human decision, with why."""
    reasons = {t: tuple(land.person_reasons(ledger, run_id, t, cfg)) for t in tasks}
    return {t: r for t, r in reasons.items() if r}


def finish(
    root: Path, ledger: Ledger, run_id: str, cfg: Config, who: str, *, approve: bool = False
) -> Outcome:
    """Where a driven run ends. With ``approve`` (``--yes``), a run at the human gate has every
    task that needs no person approved and, when none is left for a person, is merged; the tasks
    left are in ``needs_person``."""
    if approve and ledger.run(run_id).state == RunState.AWAITING_APPROVAL:
        left = land.approve_all(ledger, run_id, cfg, who)
        if left:
            return outcome(ledger, run_id, needs_person=needing_person(ledger, run_id, cfg, left))
        return merge(root, ledger, run_id, cfg, who)
    return outcome(ledger, run_id)


def merge(root: Path, ledger: Ledger, run_id: str, cfg: Config, who: str) -> Outcome:
    """The ``merge`` action (``land.merge_run``): the approved tasks' tested integration commit
    becomes the target branch; UserError or RunError when it may not."""
    landing = land.merge_run(root, ledger, run_id, cfg, who)
    return outcome(ledger, run_id, landing=landing)


def merge_unattended(root: Path, ledger: Ledger, run_id: str, cfg: Config, who: str) -> Outcome:
    """What a host agent may do (``mcp_may_merge``): approve and merge a green run as ``--yes``
    would, all or nothing: while any task needs a person, nothing is approved and ``refused``
    says why. UserError unless the run awaits approval."""
    state = ledger.run(run_id).state
    if state != RunState.AWAITING_APPROVAL:
        raise UserError(f"run {run_id} is {state}, not awaiting approval")
    if not cfg.mcp_may_merge:
        why = "this project does not let an MCP host merge (mcp_may_merge is off)"
        return outcome(ledger, run_id, refused=why)
    pending = [t for t, s in ledger.task_states(run_id).items() if s == TaskState.VERIFIED]
    held = needing_person(ledger, run_id, cfg, pending)
    if held:
        why = "; ".join(f"{t}: {', '.join(r)}" for t, r in held.items())
        return outcome(ledger, run_id, needs_person=held, refused=why)
    return finish(root, ledger, run_id, cfg, who, approve=True)
