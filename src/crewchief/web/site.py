"""What every request handler shares: the repository, the guard, the templates and their filters,
and the fixed texts of the notices shown after an action."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from crewchief.ledger.store import LEDGER_FILE, Ledger
from crewchief.web.security import CSRF_FIELD, Guard

HERE = Path(__file__).parent


#: What the page says after each action (keys come back in the redirect's query string).
NOTICES = {
    "approved": "You approved {task}.",
    "rejected": "You rejected {task}: it will not be merged.",
    "sent_back": (
        "{task} goes back for another attempt with your comment as its instruction. "
        "Run `crewchief resume {run}` or press “Resume in the background”."
    ),
    "approved_all": "Every verified task that needs no person is approved.",
    "merged": "Merged: the target branch now points at the tested, approved integration commit.",
    "merged_ready": "Landed the green, approved prefix of the queue; the rest of the run goes on.",
    "resumed": "The run is resuming in the background; task states update live.",
}


MAX_APPROVER = 64


def os_user() -> str:
    """Who acts by default: the user running the server, as the CLI records."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Site:
    """Everything a request handler needs besides the request."""

    repo: Path
    guard: Guard
    templates: Jinja2Templates
    default_who: str

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        """This repository's ledger for the calling thread; UserError if there is none yet."""
        ledger = Ledger.existing(self.repo)
        try:
            yield ledger
        finally:
            ledger.close()

    def has_ledger(self) -> bool:
        return (self.repo / ".crewchief" / LEDGER_FILE).exists()

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        session = request.scope.get("state", {}).get("session")
        base = {
            "repo": str(self.repo),
            "csrf": self.guard.csrf_for(session) if session else "",
            "csrf_field": CSRF_FIELD,
            "default_who": self.default_who,
        }
        return self.templates.TemplateResponse(request, name, {**base, **context}, status)


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def _when(ts: float | None) -> str:
    if ts is None:
        return "–"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _short(value: object) -> str:
    return str(value)[:12]


def make_templates() -> Jinja2Templates:
    """The page templates: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, iso=_iso, usd=_usd, count=_count, short=_short)
    return Jinja2Templates(env=env)


def approver_name(name: str | None) -> str:
    """The name approvals are recorded under: ``name`` (given to ``serve``) or the OS user.
    ValueError unless it is printable text of at most MAX_APPROVER characters."""
    who = " ".join((name or "").split()) or os_user()
    if len(who) > MAX_APPROVER or not who.isprintable():
        raise ValueError(f"the approver must be printable text of at most {MAX_APPROVER} chars")
    return who
