"""Who may talk to the review server, and how a form proves it comes from the server's own page.

- **Host check.** Bound to loopback, only loopback host names are served, so a page on another
  site cannot reach the server through DNS rebinding.
- **Token.** Every request carries the server's token, on loopback too: once as ``?token=`` (it
  then lives in an HttpOnly cookie), or in a header. ``crewchief serve`` keeps it in
  ``.crewchief/serve-token`` (mode 0600), which no sandbox sees, so no worker and no other user
  can act on the human gate (:func:`stored_token`).
- **Cross-site requests.** Every unsafe request must come from the server's own origin (``Origin``,
  else ``Referer``; ``Sec-Fetch-Site`` when sent) and carry a CSRF token that is an HMAC of the
  browser's session cookie. Cookies are ``SameSite=Strict`` and ``HttpOnly``.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_PARAM = "token"
TOKEN_HEADER = "x-crewchief-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
TOKEN_FILE = "serve-token"
TOKEN_BYTES = 24
_SESSION_BYTES = 24

#: Only our own files: no inline script or style, no framing, forms post only to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}

Refuse = Callable[[Request, int, str], Response]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only ever reaches this machine."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def stored_token(directory: Path) -> str:
    """The server's token, kept in ``directory/serve-token`` (made on first use, readable by
    this user only). The same token across restarts: a browser's cookie stays valid."""
    path = directory / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text().strip()
        if len(token) < TOKEN_BYTES:
            raise ValueError(f"{path} holds no usable token: delete it to make a new one") from None
        return token
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token


@dataclass(frozen=True)
class Guard:
    """The server's access rules: every request needs ``token``; ``allowed_hosts`` None: any
    Host header (bound beyond loopback)."""

    token: str
    allowed_hosts: frozenset[str] | None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @classmethod
    def for_bind(cls, host: str, token: str) -> Guard:
        """The rules for a server bound to ``host``: on loopback, loopback host names only."""
        if not token:
            raise ValueError("the review server needs an access token")
        if not is_loopback(host):
            return cls(token=token, allowed_hosts=None)
        return cls(token=token, allowed_hosts=LOOPBACK_NAMES | {host.strip("[]").casefold()})

    def csrf_for(self, session: str) -> str:
        """The CSRF token of one browser session: an HMAC only this server can make."""
        return hmac.new(self.secret, session.encode(), "sha256").hexdigest()

    def csrf_ok(self, session: str | None, presented: str | None) -> bool:
        if not session or not presented:
            return False
        return hmac.compare_digest(self.csrf_for(session), presented)


def cookie_names(scope: Scope) -> tuple[str, str]:
    """(token cookie, session cookie): cookies ignore ports, two servers on one host must not
    overwrite each other's."""
    server = scope.get("server") or ("", 0)
    port = server[1] if len(server) > 1 and server[1] else 0
    return f"crewchief_token_{port}", f"crewchief_session_{port}"


def session_of(request: Request) -> str:
    """This request's browser session id (set by the middleware, new or from the cookie)."""
    return str(request.scope["state"]["session"])


class GuardMiddleware:
    """Applies a Guard to every HTTP request; refusals render through ``refuse``."""

    def __init__(self, app: ASGIApp, guard: Guard, refuse: Refuse) -> None:
        self.app, self.guard, self.refuse = app, guard, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token_cookie, session_cookie = cookie_names(scope)
        problem = self._problem(request, token_cookie)
        if problem is not None:
            response = self.refuse(request, *problem)
            _add_headers(MutableHeaders(raw=response.raw_headers), [])
            await response(scope, receive, send)
            return
        session = request.cookies.get(session_cookie) or ""
        cookies = []
        if len(session) < _SESSION_BYTES:
            session = secrets.token_urlsafe(_SESSION_BYTES)
            cookies.append(_cookie(session_cookie, session))
        if request.query_params.get(TOKEN_PARAM) == self.guard.token:
            cookies.append(_cookie(token_cookie, self.guard.token))
        scope.setdefault("state", {})["session"] = session

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add_headers(MutableHeaders(scope=message), cookies)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _problem(self, request: Request, token_cookie: str) -> tuple[int, str] | None:
        allowed = self.guard.allowed_hosts
        host = (request.url.hostname or "").casefold()
        if allowed is not None and host not in allowed:
            return 400, (
                f"this server answers only to {', '.join(sorted(allowed))}, not to host "
                f"{host or '(none)'!r}; open it through the address `crewchief serve` printed"
            )
        if not self._token_ok(request, token_cookie):
            return 401, (
                "this server needs its access token: open the address with ?token=… that "
                "`crewchief serve` printed, or send the X-Crewchief-Token header"
            )
        if request.method not in SAFE_METHODS:
            return same_origin_problem(request)
        return None

    def _token_ok(self, request: Request, token_cookie: str) -> bool:
        auth = request.headers.get("authorization", "")
        presented = [
            request.query_params.get(TOKEN_PARAM),
            request.headers.get(TOKEN_HEADER),
            auth[len("Bearer ") :] if auth.startswith("Bearer ") else None,
            request.cookies.get(token_cookie),
        ]
        return any(
            p is not None and hmac.compare_digest(p.encode(), self.guard.token.encode())
            for p in presented
        )


def same_origin_problem(request: Request) -> tuple[int, str] | None:
    """Why an unsafe request does not provably come from this server's own pages, or None."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return 403, f"cross-site request refused (Sec-Fetch-Site: {fetch_site})"
    own = f"{request.url.scheme}://{request.url.netloc}".casefold()
    origin = request.headers.get("origin")
    if origin is not None:
        if origin.casefold() != own:
            return 403, f"cross-site request refused: it came from {origin}, not {own}"
        return None
    referer = request.headers.get("referer")
    if referer is None:
        return 403, "request refused: it carries neither Origin nor Referer to prove its source"
    parts = urlsplit(referer)
    if f"{parts.scheme}://{parts.netloc}".casefold() != own:
        return 403, "cross-site request refused: its Referer is another site"
    return None


def _cookie(name: str, value: str) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    return morsel.OutputString()


def _add_headers(headers: MutableHeaders, cookies: list[str]) -> None:
    for key, value in SECURITY_HEADERS.items():
        headers[key] = value
    for c in cookies:
        headers.append("set-cookie", c)
