"""The pages (GET): runs, one run, one task, and the JSON the run page polls for live states.

Handlers are plain functions, so Starlette runs them in a worker thread: the ledger they open is
that thread's. Everything shown comes from a query in ``crewchief.ledger.views``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from crewchief.config import Config
from crewchief.errors import UserError
from crewchief.ledger import views
from crewchief.ledger.store import Ledger
from crewchief.lifecycle import RUN_WITH_WORK, RunState, TaskState
from crewchief.merge import land
from crewchief.web import graph
from crewchief.web.diffview import diff_view, highlight_css
from crewchief.web.site import NOTICES, site_of

EVENTS_SHOWN = 200


def run_or_404(ledger: Ledger, run_id: str) -> str:
    try:
        ledger.run(run_id)
    except UserError as e:
        raise HTTPException(404, str(e)) from e
    return run_id


def task_or_404(ledger: Ledger, run_id: str, task_id: str) -> str:
    if task_id not in ledger.task_states(run_id):
        raise HTTPException(404, f"run {run_id} has no task {task_id!r}")
    return task_id


def run_config(ledger: Ledger, run_id: str) -> Config:
    """The configuration the run was started with (as the CLI's review and merge use it)."""
    return Config.model_validate_json(ledger.run(run_id).config_json)


def runs_page(request: Request) -> Response:
    site = site_of(request)
    if not site.has_ledger():
        return site.render(request, "runs.html", {"runs": []})
    with site.ledger() as ledger:
        runs = [views.run_overview(ledger, r.id) for r in reversed(ledger.runs())]
    return site.render(request, "runs.html", {"runs": runs})


def _gate(ledger: Ledger, run_id: str, state: str) -> dict[str, Any]:
    """Which of the human gate's actions the run allows now, and why not otherwise."""
    states = ledger.task_states(run_id)
    waiting = [t for t, s in states.items() if s == TaskState.VERIFIED]
    approved = [t for t, s in states.items() if s == TaskState.APPROVED]
    merge_blocker = None
    if state != RunState.AWAITING_APPROVAL:
        merge_blocker = f"the run is {state}, not awaiting approval"
    elif waiting:
        merge_blocker = f"{len(waiting)} task(s) still await a decision"
    elif not approved:
        merge_blocker = "no task is approved"
    return {
        "waiting": waiting,
        "approved": approved,
        "can_approve_all": state == RunState.AWAITING_APPROVAL and bool(waiting),
        "merge_blocker": merge_blocker,
        "can_resume": state in RUN_WITH_WORK,
    }


def _run_context(repo: Path, ledger: Ledger, run_id: str) -> dict[str, Any]:
    overview = views.run_overview(ledger, run_id)
    cfg = run_config(ledger, run_id)
    plan = views.plan_view(ledger, run_id)
    rows = views.task_rows(ledger, run_id)
    states = {r.task: str(r.state) for r in rows}
    events = views.event_log(ledger, run_id)
    return {
        "run": overview,
        "plan": plan,
        "tasks": rows,
        "needs_person": {r.task: land.person_reasons(ledger, run_id, r.task, cfg) for r in rows},
        "graph": graph.plan_svg(
            [t.model_dump() for t in plan.tasks], states, lambda t: f"/runs/{run_id}/tasks/{t}"
        ),
        "summary": views.manager_summary(ledger, run_id),
        "merge_order": views.merge_order(ledger, run_id),
        "suite": views.suite_result(ledger, run_id),
        "provenance": views.provenance(repo, ledger, run_id),
        "decisions": views.decisions(ledger, run_id),
        "events": events[-EVENTS_SHOWN:],
        "events_total": len(events),
        "seq": events[-1].seq if events else 0,
        "gate": _gate(ledger, run_id, overview.state),
    }


def _notice(request: Request, ledger: Ledger, run_id: str) -> str | None:
    """The message for the action just done (a fixed text per key, never text from the URL)."""
    key = request.query_params.get("notice", "")
    task = request.query_params.get("task", "")
    if key not in NOTICES or (task and task not in ledger.task_states(run_id)):
        return None
    return NOTICES[key].format(task=task, run=run_id)


def run_page(request: Request) -> Response:
    site = site_of(request)
    with site.ledger() as ledger:
        run_id = run_or_404(ledger, request.path_params["run_id"])
        context = _run_context(site.repo, ledger, run_id)
        context["notice"] = _notice(request, ledger, run_id)
    return site.render(request, "run.html", context)


def live_state(request: Request) -> Response:
    site = site_of(request)
    with site.ledger() as ledger:
        run_id = run_or_404(ledger, request.path_params["run_id"])
        return JSONResponse(views.live_state(ledger, run_id).model_dump(mode="json"))


def _task_context(ledger: Ledger, run_id: str, task_id: str) -> dict[str, Any]:
    plan = views.plan_view(ledger, run_id)
    attempts = views.task_attempts(ledger, run_id, task_id)
    shown = views.review_patch(ledger, run_id, task_id)
    shown_attempt = next((a for a in attempts if a.id == shown.attempt), None)
    hunk_verdicts = [h for v in (shown_attempt.verdicts if shown_attempt else []) for h in v.hunks]
    return {
        "run_id": run_id,
        "run_state": ledger.run(run_id).state,
        "task": next(t for t in plan.tasks if t.id == task_id),
        "task_state": str(ledger.task_states(run_id)[task_id]),
        "needs_person": land.person_reasons(ledger, run_id, task_id, run_config(ledger, run_id)),
        "diff": diff_view(shown.patch, hunk_verdicts),
        "shown": shown_attempt,
        "shown_accepted": shown.accepted,
        "attempts": attempts,
        "decisions": views.decisions(ledger, run_id, task_id),
        "seq": views.live_state(ledger, run_id).seq,
    }


def task_page(request: Request) -> Response:
    site = site_of(request)
    with site.ledger() as ledger:
        run_id = run_or_404(ledger, request.path_params["run_id"])
        task_id = task_or_404(ledger, run_id, request.path_params["task_id"])
        context = _task_context(ledger, run_id, task_id)
        context["notice"] = _notice(request, ledger, run_id)
    return site.render(request, "task.html", context)


def highlight_stylesheet(request: Request) -> Response:
    return Response(highlight_css(), media_type="text/css")


def run_shortcut(request: Request) -> Response:
    """``/runs`` lists the runs, like ``/``."""
    return RedirectResponse("/", status_code=303)


ROUTES = [
    Route("/", runs_page, name="runs"),
    Route("/runs", run_shortcut),
    Route("/runs/{run_id}", run_page, name="run"),
    Route("/runs/{run_id}/state", live_state, name="live_state"),
    Route("/runs/{run_id}/tasks/{task_id}", task_page, name="task"),
]
