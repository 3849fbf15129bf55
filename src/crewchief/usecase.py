"""The use case every interface calls: start a run from a request or a plan, drive it, or hand it
to a background driver. The CLI, the review page and the MCP server parse their input, call one
of these, and render what comes back; none of them builds the orchestrator or repeats a check.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from crewchief.attempts.executor import make_executor
from crewchief.attempts.workspace import crewchief_dir
from crewchief.backends.base import Planner, load_recipe
from crewchief.config import Config
from crewchief.errors import UserError
from crewchief.gate.verify import Reviewer
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RunState
from crewchief.records import ChangeRequest, Plan
from crewchief.run.intake import checked, make_plan, open_run, preflight
from crewchief.run.orchestrate import Orchestrator
from crewchief.run.plan import predicted_conflicts
from crewchief.sandbox import requirement as sandbox_policy


@dataclass(frozen=True)
class StartedRun:
    """A run recorded with its plan, before any worker ran. ``reviewer`` is what reviews its
    patches (None: the rule reviewer alone); ``conflicts`` the predicted overlaps."""

    ledger: Ledger
    run_id: str
    plan: Plan
    reviewer: Reviewer | None
    conflicts: tuple[str, ...]


def planner_for(request: ChangeRequest, cfg: Config) -> Planner:
    """A recipe's planner, or the manager model (its models checked before any work)."""
    if request.recipe is not None:
        return load_recipe(request.recipe).planner
    from crewchief.llm import roles

    roles.check_models(cfg, workers=cfg.worker_backend.startswith("llm:"))
    return roles.planner(cfg)


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


def plan_request(root: Path, request: ChangeRequest, cfg: Config) -> tuple[Plan, Planner]:
    """The planner's validated plan for ``request`` (UserError naming every problem)."""
    planner = planner_for(request, cfg)
    return make_plan(root, request, planner, cfg), planner


def record_planning(ledger: Ledger, run_id: str, planner: Planner) -> None:
    """The manager's planning calls and conversation, once the run exists to hold them."""
    calls, transcript = getattr(planner, "calls", []), getattr(planner, "transcript", [])
    ledger.record_calls(run_id, calls)
    ledger.record_transcript(run_id, "manager", transcript)


def start_run(
    root: Path, cfg: Config, request: ChangeRequest, plan: Plan | None = None
) -> StartedRun:
    """Record a new run: ``plan`` validated as given, or planned from ``request`` (a recipe or
    the manager). The repository, the plan and every model are checked before anything is
    written; the planning calls are recorded with the run. Nothing is driven yet."""
    target, base = preflight(root, cfg)
    planner: Planner | None = None
    if plan is None:
        plan, planner = plan_request(root, request, cfg)
    else:
        plan = checked(plan, cfg)
    check_models(cfg, plan)
    sandbox_policy.require(cfg, plan)  # no sandbox, no run: refused before anything is written
    ledger, run_id = open_run(root, request, plan, cfg, target, base)
    if planner is not None:
        record_planning(ledger, run_id, planner)
    reviewer = reviewer_for(cfg, plan, ledger, run_id)
    return StartedRun(ledger, run_id, plan, reviewer, tuple(predicted_conflicts(plan)))


def drive(
    root: Path, ledger: Ledger, run_id: str, cfg: Config, reviewer: Reviewer | None
) -> RunState:
    """Drive ``run_id`` up to the human gate in this process (resuming what was done)."""
    return Orchestrator(root, ledger, cfg, make_executor(cfg), reviewer).drive(run_id)


def driver_log(repo: Path, run_id: str) -> Path:
    """Where a background driver of ``run_id`` writes its output."""
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
