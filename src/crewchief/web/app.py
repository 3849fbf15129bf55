"""The Starlette application: routes, the guard, and errors rendered as pages.

The ledger is opened per request, inside the worker thread that uses it (a Ledger is one
thread's). Library errors become a page with a plain message and the right status, never a
traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from crewchief.errors import CrewchiefError, IllegalTransition, UserError
from crewchief.web import actions, pages, report_page
from crewchief.web.security import Guard, GuardMiddleware
from crewchief.web.site import HERE, Site, approver_name, make_templates, site_of

MAX_FORM_BYTES = 256 * 1024
log = logging.getLogger(__name__)


def error_page(request: Request, status: int, message: str) -> Response:
    site = site_of(request)
    return site.render(request, "error.html", {"status": status, "message": message}, status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code, str(exc.detail))


async def _crewchief_error(request: Request, exc: Exception) -> Response:
    """Bad input is 400; an action the run's current state does not allow (or a lifecycle move
    it forbids) is 409; any other library error is a failure of the run (500), by its message."""
    status = 400 if isinstance(exc, UserError) else 500
    if isinstance(exc, IllegalTransition | actions.ActionRefused):
        status = 409
    return error_page(request, status, str(exc))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error serving %s", request.url.path)
    return error_page(request, 500, "internal error: the server's log has the details")


def create_app(repo: Path, guard: Guard, default_who: str | None = None) -> Starlette:
    """The review web app for ``repo`` (a git repository's top directory); approvals are
    recorded as ``default_who`` (default: the OS user running it)."""
    routes = [
        *pages.ROUTES,
        *actions.ROUTES,
        *report_page.ROUTES,
        Route("/highlight.css", pages.highlight_stylesheet, name="highlight_css"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(GuardMiddleware, guard=guard, refuse=error_page)],
        exception_handlers={
            HTTPException: _http_error,
            CrewchiefError: _crewchief_error,
            Exception: _unexpected,
        },
        max_body_size=MAX_FORM_BYTES,
    )
    app.state.site = Site(repo, guard, make_templates(), approver_name(default_who))
    return app
