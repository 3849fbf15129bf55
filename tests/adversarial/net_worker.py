"""A worker written to misbehave on the network: it tries every target it is given and writes
what happened to ``net/result.json`` in its worktree (so the outcome reaches the run ref).

Usage: net_worker.py TARGETS_JSON, the prompt on stdin. Each target is ``[name, kind, arg]``:
``http`` GETs the URL ``arg`` (proxy variables honoured, as any client does); ``connect`` asks
the sandbox's HTTP proxy (``$HTTPS_PROXY``) for a tunnel to ``arg`` (``host:port``).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def http(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return f"ok {response.status} {response.read().decode()[:200]}"
    except urllib.error.HTTPError as e:
        return f"http {e.code} {e.read().decode()[:200]}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return f"refused {type(reason).__name__}: {reason}"


def connect(target: str) -> str:
    proxy = os.environ.get("HTTPS_PROXY")
    if not proxy:
        return "no proxy"
    parts = urlsplit(proxy)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
            sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            return f"answer {sock.recv(4096).decode(errors='replace')}"
    except OSError as e:
        return f"refused {type(e).__name__}: {e}"


def main() -> None:
    sys.stdin.read()
    targets = json.loads(sys.argv[1])
    kinds = {"http": http, "connect": connect}
    results = {name: kinds[kind](arg) for name, kind, arg in targets}
    os.makedirs("net", exist_ok=True)
    with open("net/result.json", "w") as out:
        json.dump(results, out, indent=1, sort_keys=True)
        out.write("\n")
    print("tried", ", ".join(sorted(results)))


if __name__ == "__main__":
    main()
