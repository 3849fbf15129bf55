"""What a sandboxed worker may reach over the network: exactly its configured endpoints.

The approach of Anthropic's sandbox-runtime: the sandbox gets a private network namespace
(``bwrap --unshare-net``: only its own loopback), and its only way out is a unix socket bound
into it, on whose host side crewchief forwards only what is allowed. Inside, the
:mod:`crewchief.sandbox.netbridge` forwarder listens on the sandbox's loopback:

- an endpoint on this machine's loopback (``http://127.0.0.1:8123``) is served at the same address
  inside, and forwarded to exactly that address on the host, so its base URL works unchanged;
- a remote endpoint (``https://api.openai.com``) is reached through an HTTP proxy inside
  (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``) whose host side answers ``CONNECT`` (and
  absolute-form HTTP requests) only for an allowed ``host:port`` and refuses anything else with
  403, logged on :data:`log` and kept in :attr:`Egress.refused`.

Everything else (the review page, other loopback ports, other hosts, DNS) does not exist inside.
Every endpoint is probed from the host before the worker starts, so an unreachable one fails the
attempt at once (:class:`EndpointUnreachable`) instead of after the task's timeout.
``network = true`` (the sandbox's opt-out) leaves the host's network on with no allowlist; it is
logged as a warning every time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from crewchief.errors import RunError, UserError
from crewchief.sandbox import netbridge
from crewchief.sandbox.netbridge import Route

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
#: Where the in-sandbox HTTP proxy listens (moved up if an endpoint uses the port).
PROXY_PORT = 3128
PROBE_TRIES = 3
PROBE_TIMEOUT_S = 3.0
_PROBE_PAUSE_S = 0.2
_CONNECT_TIMEOUT_S = 10.0
_MAX_HEAD_BYTES = 16 * 1024
#: A unix socket path must fit in sun_path (108 bytes on Linux, with its NUL).
_MAX_SOCKET_PATH = 107
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_NO_PROXY = "localhost,127.0.0.1,::1"


class EndpointUnreachable(RunError):
    """A configured model endpoint cannot be reached from this machine: the worker is not
    started."""


@dataclass(frozen=True)
class Endpoint:
    """One allowed destination, from a URL: ``host`` (lower case, no brackets) and ``port``."""

    url: str
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return self.host in _LOOPBACK_NAMES or self.host.startswith("127.")

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_endpoint(url: str) -> Endpoint:
    """The endpoint of ``url`` (``http(s)://host[:port][/path]``); UserError if it is not one."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError as e:
        raise UserError(f"model endpoint {url!r}: {e}") from e
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise UserError(f"model endpoint {url!r} is not an http:// or https:// URL with a host")
    return Endpoint(url, parts.hostname.casefold(), port or DEFAULT_PORTS[parts.scheme])


def model_endpoints(configured: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The endpoints a worker may reach: ``configured`` (its sandbox's ``model_endpoint``), plus
    the http(s) URLs its own configuration passes it in ``*_BASE_URL`` variables (a client
    pointed at a proxy or a local server must reach exactly that)."""
    found = list(configured)
    for name, value in sorted(env.items()):
        if name.upper().endswith("_BASE_URL") and urlsplit(value).scheme in DEFAULT_PORTS:
            found.append(value)
    return list(dict.fromkeys(found))


def probe(endpoint: Endpoint, tries: int = PROBE_TRIES) -> None:
    """Connect to ``endpoint`` from the host, ``tries`` times at most (a failure can be
    transient); EndpointUnreachable naming the last error if no try connects."""
    problem = ""
    for attempt in range(tries):
        if attempt:
            time.sleep(_PROBE_PAUSE_S)
        try:
            socket.create_connection((endpoint.host, endpoint.port), PROBE_TIMEOUT_S).close()
            return
        except OSError as e:
            problem = e.strerror or str(e) or type(e).__name__
    raise EndpointUnreachable(
        f"model endpoint {endpoint.url} ({endpoint.address}) is unreachable from this machine "
        f"({problem}; {tries} tries): the worker was not started"
    )


class Egress:
    """The network of one sandbox: ``urls`` (its allowed endpoints), ``directory`` (where the
    unix sockets go; bound read-only into the sandbox), ``open_network`` (the opt-out).

    Use: :meth:`start` (probes, then listens), then :meth:`bwrap_args`, :meth:`env` and
    :meth:`wrap` to build the worker's command line, then :meth:`close`.
    """

    def __init__(self, urls: Sequence[str], directory: Path, *, open_network: bool) -> None:
        parsed = (parse_endpoint(u) for u in urls)
        self.endpoints = tuple({(e.host, e.port): e for e in parsed}.values())
        self.directory = directory
        self.open_network = open_network
        self.refused: list[str] = []
        self._servers: list[_UnixServer] = []
        self._routes: list[Route] = []
        self._proxied = False
        self._lock = threading.Lock()

    @property
    def proxy_port(self) -> int:
        taken = {e.port for e in self.endpoints if e.loopback}
        return next(p for p in range(PROXY_PORT, PROXY_PORT + len(taken) + 1) if p not in taken)

    def start(self, *, isolated: bool) -> None:
        """Probe every endpoint; with ``isolated`` (a private network namespace), listen on
        the host side of every route. EndpointUnreachable if an endpoint does not answer."""
        for endpoint in self.endpoints:
            probe(endpoint)
        if self.open_network:
            log.warning(
                "sandbox network is ON without an allowlist (network = true): the worker can "
                "reach every host and every loopback service of this machine"
            )
        if not isolated or self.open_network or not self.endpoints:
            return
        self.directory.mkdir(mode=0o755, exist_ok=True)
        for n, endpoint in enumerate(e for e in self.endpoints if e.loopback):
            path = self._listen(f"direct{n}.sock", _direct(endpoint))
            host = "127.0.0.1" if endpoint.host == "localhost" else endpoint.host
            self._routes.append(Route(host, endpoint.port, path))
        # The proxy runs even for loopback-only endpoints: a worker that tries another host
        # through it is then refused in words and logged, not only by the kernel.
        path = self._listen("proxy.sock", _proxy(self.endpoints, self._refuse))
        self._routes.append(Route("127.0.0.1", self.proxy_port, path))
        self._proxied = True

    def close(self) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()

    def bwrap_args(self) -> list[str]:
        """bubblewrap arguments: no network of the host's, the socket directory read-only."""
        if self.open_network:
            return []
        args = ["--unshare-net"]
        if self._routes:
            args += ["--ro-bind", str(self.directory), str(self.directory)]
        return args + _interpreter_args()

    def env(self) -> dict[str, str]:
        """Proxy variables pointing at the in-sandbox proxy (when any endpoint is allowed)."""
        if not self._proxied:
            return {}
        proxy = f"http://127.0.0.1:{self.proxy_port}"
        names = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")
        env = {n: proxy for n in names} | {n.lower(): proxy for n in names}
        return env | {"NO_PROXY": _NO_PROXY, "no_proxy": _NO_PROXY}

    def wrap(self, command: Sequence[str]) -> list[str]:
        """``command`` under the in-sandbox forwarder (unchanged when nothing is routed)."""
        return netbridge.wrap(command, self._routes)

    def _listen(self, name: str, handle: Callable[[socket.socket], None]) -> str:
        path = str(self.directory / name)
        if len(os.fsencode(path)) > _MAX_SOCKET_PATH:
            raise RunError(f"the sandbox's socket path is too long for a unix socket: {path}")
        self._servers.append(_UnixServer(path, handle))
        return path

    def _refuse(self, target: str) -> None:
        with self._lock:
            self.refused.append(target)
        log.warning("sandbox egress refused: %s is not an allowed endpoint", target)


def _interpreter_args() -> list[str]:
    """The bridge runs with this interpreter: its prefix back, read-only, if it lives under a
    directory the sandbox replaces or hides (/tmp, /run, HOME)."""
    home = os.path.realpath(os.path.expanduser("~"))
    hidden = ["/tmp", "/run"] + ([home] if home not in ("/", "") else [])
    prefix = os.path.realpath(sys.prefix)
    base = os.path.realpath(sys.base_prefix)
    args: list[str] = []
    for path in dict.fromkeys((prefix, base)):
        if any(path.startswith(h + os.sep) for h in hidden):
            args += ["--ro-bind-try", path, path]
    return args


class _UnixServer:
    """Accepts on a unix socket in a thread; each connection is handled in its own thread."""

    def __init__(self, path: str, handle: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(64)
        self.handle = handle
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, name=f"egress {path}", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.closed.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() on Linux
        self.sock.close()
        self.thread.join(timeout=_CONNECT_TIMEOUT_S)


def _direct(endpoint: Endpoint) -> Callable[[socket.socket], None]:
    """Forward a connection to exactly ``endpoint`` on the host."""

    def handle(conn: socket.socket) -> None:
        with socket.create_connection((endpoint.host, endpoint.port), _CONNECT_TIMEOUT_S) as up:
            up.settimeout(None)
            _splice(conn, up)

    return handle


def _proxy(
    allowed: Sequence[Endpoint], refuse: Callable[[str], None]
) -> Callable[[socket.socket], None]:
    """An HTTP proxy that serves only ``allowed``: CONNECT host:port, or an absolute-form
    request (``GET http://host/...``), forwarded in origin form."""
    allow = {(e.host, e.port) for e in allowed}

    def handle(conn: socket.socket) -> None:
        head, rest = _read_head(conn)
        target = _target(head)
        if target is None:
            conn.sendall(_answer(400, "crewchief egress: not a proxy request"))
            return
        host, port, forwarded = target
        if (host, port) not in allow:
            refuse(f"{host}:{port}")
            refusal = f"crewchief egress: {host}:{port} is not an allowed endpoint"
            conn.sendall(_answer(403, refusal))
            return
        try:
            up = socket.create_connection((host, port), _CONNECT_TIMEOUT_S)
        except OSError as e:
            conn.sendall(_answer(502, f"crewchief egress: cannot reach {host}:{port}: {e}"))
            return
        with up:
            up.settimeout(None)
            if forwarded is None:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up.sendall(forwarded)
            if rest:
                up.sendall(rest)
            _splice(conn, up)

    return handle


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    """The request's head (through the blank line) and whatever bytes followed it."""
    conn.settimeout(_CONNECT_TIMEOUT_S)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _MAX_HEAD_BYTES:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    conn.settimeout(None)
    head, sep, rest = data.partition(b"\r\n\r\n")
    return (head + sep, rest) if sep else (b"", b"")


def _target(head: bytes) -> tuple[str, int, bytes | None] | None:
    """(host, port, the head to send upstream; None for CONNECT) of a proxy request."""
    line, _, headers = head.partition(b"\r\n")
    parts = line.decode("latin-1").split(" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    if method.upper() == "CONNECT":
        parsed = urlsplit(f"//{target}")
        try:
            port = parsed.port
        except ValueError:
            return None
        return (parsed.hostname or "", port or 443, None) if parsed.hostname and port else None
    parsed = urlsplit(target)
    if parsed.scheme != "http" or not parsed.hostname:
        return None
    try:
        port = parsed.port or 80
    except ValueError:
        return None
    path = parsed.path or "/"
    path += f"?{parsed.query}" if parsed.query else ""
    first = f"{method} {path} {version}\r\n".encode("latin-1")
    return parsed.hostname.casefold(), port, first + headers


def _answer(status: int, text: str) -> bytes:
    reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
    body = (text + "\n").encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Copy both ways until both sides are done."""
    back = threading.Thread(target=_copy, args=(b, a), daemon=True)
    back.start()
    _copy(a, b)
    back.join()


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        with contextlib.suppress(OSError):
            sock.shutdown(how)
