"""The human gate's actions (POST): decide a task, send it back, approve the run, merge, resume.

Each one is the core call the CLI makes (``crewchief.usecase``, ``crewchief.merge.land``), with
the same arguments and the same ledger records: who and when. Who is the server's approver (the
OS user who started ``crewchief serve``, or the name it was given with ``--approver``), never a
field of the form: a request cannot choose whom it is recorded as. A request must pass the guard
(the server's token, same origin) and carry the session's CSRF token. After success the browser
is redirected (303) to the page, which names what was done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from crewchief import usecase
from crewchief.errors import CrewchiefError, GitError, RunError, UserError
from crewchief.merge import land
from crewchief.web.pages import run_config, run_or_404, task_or_404
from crewchief.web.security import CSRF_FIELD, session_of
from crewchief.web.site import site_of

MAX_COMMENT = 4000
DECISIONS = {"approve": "approved", "reject": "rejected", "send_back": "sent_back"}


class ActionRefused(CrewchiefError):
    """The run's current state does not allow the action (HTTP 409); nothing was changed."""

    exit_code = 2


@contextmanager
def refusals() -> Iterator[None]:
    """The library's "not now" (a UserError, or a RunError such as a moved target branch) as
    ActionRefused; git failures stay what they are."""
    try:
        yield
    except (UserError, RunError) as e:
        if isinstance(e, GitError):
            raise
        raise ActionRefused(str(e)) from e


async def _form(request: Request) -> dict[str, str]:
    """The form's text fields, once its CSRF token matched this browser's session."""
    form = await request.form(max_files=0, max_fields=16)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not site_of(request).guard.csrf_ok(session_of(request), values.get(CSRF_FIELD)):
        raise HTTPException(
            403, "the form's CSRF token is missing or stale: reload the page and try again"
        )
    return values


def _back(run_id: str, notice: str, task: str = "", anchor: str = "gate") -> Response:
    query = urlencode({"notice": notice, **({"task": task} if task else {})})
    return RedirectResponse(f"/runs/{run_id}?{query}#{anchor}", status_code=303)


async def decide_task(request: Request) -> Response:
    """Approve, reject, or reject and send back one verified task, with a comment."""
    site, values = site_of(request), await _form(request)
    who, decision = site.default_who, values.get("decision", "")
    comment = values.get("comment", "").strip()
    run_id, task_id = request.path_params["run_id"], request.path_params["task_id"]
    if decision not in DECISIONS:
        raise HTTPException(400, "decision must be approve, reject or send_back")
    if len(comment) > MAX_COMMENT:
        raise HTTPException(400, f"the comment is longer than {MAX_COMMENT} characters")
    if decision == "send_back" and not comment:
        raise HTTPException(
            400, "sending a task back needs a comment: it becomes the next instruction"
        )

    def act() -> None:
        with site.ledger() as ledger:
            task_or_404(ledger, run_or_404(ledger, run_id), task_id)
            with refusals():
                if decision == "send_back":
                    land.send_back(ledger, run_id, task_id, who, comment)
                else:
                    land.decide(ledger, run_id, task_id, decision == "approve", who, comment)

    await run_in_threadpool(act)
    return _back(run_id, DECISIONS[decision], task_id)


async def approve_run(request: Request) -> Response:
    """Approve every verified task that needs no person (``review --approve-all``)."""
    site = site_of(request)
    await _form(request)  # its CSRF token
    who, run_id = site.default_who, request.path_params["run_id"]

    def act() -> None:
        with site.ledger() as ledger:
            run_or_404(ledger, run_id)
            with refusals():
                land.approve_all(ledger, run_id, run_config(ledger, run_id), who)

    await run_in_threadpool(act)
    return _back(run_id, "approved_all")


async def merge(request: Request) -> Response:
    """``crewchief merge``: rebuild and re-test if a person rejected part, then the CAS landing."""
    site = site_of(request)
    await _form(request)  # its CSRF token
    who, run_id = site.default_who, request.path_params["run_id"]

    def act() -> None:
        with site.ledger() as ledger:
            run_or_404(ledger, run_id)
            with refusals():
                usecase.merge(site.repo, ledger, run_id, run_config(ledger, run_id), who)

    await run_in_threadpool(act)
    return _back(run_id, "merged", anchor="top")


async def merge_ready(request: Request) -> Response:
    """``crewchief merge RUN --ready``: land the green, approved prefix; the run goes on."""
    site = site_of(request)
    await _form(request)  # its CSRF token
    who, run_id = site.default_who, request.path_params["run_id"]  # the server's approver

    def act() -> None:
        with site.ledger() as ledger:
            run_or_404(ledger, run_id)
            with refusals():
                land.merge_ready(site.repo, ledger, run_id, run_config(ledger, run_id), who)

    await run_in_threadpool(act)
    return _back(run_id, "merged_ready", anchor="top")


async def resume(request: Request) -> Response:
    """Hand the run to a background driver (``crewchief resume RUN``), e.g. after a task was
    sent back; refused (409) when it has nothing to resume or is being driven."""
    site = site_of(request)
    await _form(request)  # its CSRF token
    who, run_id = site.default_who, request.path_params["run_id"]

    def act() -> None:
        with site.ledger() as ledger:
            run_or_404(ledger, run_id)
            with refusals():
                usecase.drive_in_background(site.repo, ledger, run_id, who)

    await run_in_threadpool(act)
    return _back(run_id, "resumed", anchor="top")


ROUTES = [
    Route("/runs/{run_id}/tasks/{task_id}/decision", decide_task, methods=["POST"]),
    Route("/runs/{run_id}/approve", approve_run, methods=["POST"]),
    Route("/runs/{run_id}/merge", merge, methods=["POST"]),
    Route("/runs/{run_id}/merge-ready", merge_ready, methods=["POST"]),
    Route("/runs/{run_id}/resume", resume, methods=["POST"]),
]
