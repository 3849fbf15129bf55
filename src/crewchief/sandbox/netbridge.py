"""The forwarder that runs inside a sandbox whose network is off: its only way out.

In a sandbox with a private network namespace (``bwrap --unshare-net``) nothing but the
sandbox's own loopback exists. :data:`BRIDGE` is a small stdlib-only program, run there with this
interpreter, that listens on TCP ports of that loopback and forwards each connection to a unix
socket bound into the sandbox, on whose other end :mod:`crewchief.sandbox.egress` decides (outside
the sandbox) what the connection may reach. It binds every listener *before* it starts the worker's
command (so no connection can race it), then runs the command as its child and exits with the
command's status. It never reads stdin and prints only its own failures.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

#: Exit status of the bridge when it cannot set up its listeners (the command never ran).
BRIDGE_FAILED = 126

BRIDGE = """
import json, os, socket, subprocess, sys, threading
routes = json.loads(sys.argv[1])
command = sys.argv[3:]

def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
        try:
            s.shutdown(how)
        except OSError:
            pass

def forward(conn, path):
    out = socket.socket(socket.AF_UNIX)
    try:
        out.connect(path)
    except OSError:
        conn.close()
        out.close()
        return
    back = threading.Thread(target=pipe, args=(out, conn), daemon=True)
    back.start()
    pipe(conn, out)
    back.join()
    conn.close()
    out.close()

def serve(listener, path):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=forward, args=(conn, path), daemon=True).start()

listeners = []
try:
    for route in routes:
        family = socket.AF_INET6 if ":" in route["host"] else socket.AF_INET
        listener = socket.socket(family)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((route["host"], route["port"]))
        listener.listen(64)
        listeners.append((listener, route["socket"]))
except OSError as e:
    sys.stderr.write(f"crewchief sandbox: cannot set up the network bridge: {e}\\n")
    sys.exit(BRIDGE_FAILED_STATUS)
for listener, path in listeners:
    threading.Thread(target=serve, args=(listener, path), daemon=True).start()
try:
    child = subprocess.Popen(command)
except OSError as e:
    sys.stderr.write(f"crewchief sandbox: cannot run {command[0]!r}: {e}\\n")
    os._exit(127)
code = child.wait()
sys.stdout.flush()
os._exit(code if code >= 0 else 128 - code)
""".replace("BRIDGE_FAILED_STATUS", str(BRIDGE_FAILED))


@dataclass(frozen=True)
class Route:
    """Inside the sandbox, ``host:port`` (on its loopback) leads to the unix socket ``socket``."""

    host: str
    port: int
    socket: str


def wrap(command: Sequence[str], routes: Sequence[Route]) -> list[str]:
    """``command`` run under the bridge that serves ``routes`` (``command`` itself if none)."""
    if not routes:
        return list(command)
    spec = json.dumps([{"host": r.host, "port": r.port, "socket": r.socket} for r in routes])
    return [sys.executable, "-I", "-S", "-c", BRIDGE, spec, "--", *command]
