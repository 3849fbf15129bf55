"""The added cost per attempt of the network allowlist (host proxy + in-sandbox forwarder).

    .venv/bin/python bench/egress_cost.py [--runs 7]

A small attempt: one bubblewrap sandbox on a real worktree whose worker makes one HTTP request to
a scripted model server on 127.0.0.1, measured three ways in the same run, interleaved, the
median of ``--runs`` each:

- ``no proxy``: the network off (no endpoint configured), the worker's request refused at once
- ``proxy``: the endpoint allowed: probe, host proxy, forwarder, the request answered
- ``proxy, no request``: the endpoint allowed, the worker makes no request (the set-up alone)

The added cost per attempt is ``proxy`` − ``no proxy``.
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from crewchief.sandbox.runner import SandboxConfig, WorkerSandbox

WORKER = """
import sys, urllib.request
if sys.argv[1] != "-":
    try:
        urllib.request.urlopen(sys.argv[1], timeout=10).read()
    except OSError:
        pass
"""


class _Model(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _attempt(worktree: Path, endpoint: str | None, request: str) -> float:
    start = time.perf_counter()
    config = SandboxConfig(mode="bwrap", model_endpoint=endpoint)
    with WorkerSandbox(worktree, config) as box:
        run = box.run([sys.executable, "-c", WORKER, request], timeout_s=60)
    assert run.returncode == 0, run.stderr.text()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "base"])
        cases = {"no proxy": (None, url), "proxy": (url, url), "proxy, no request": (url, "-")}
        times: dict[str, list[float]] = {name: [] for name in cases}
        _attempt(repo, url, url)  # warm caches once
        for _ in range(args.runs):
            for name, (endpoint, request) in cases.items():
                times[name].append(_attempt(repo, endpoint, request))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:<18} median {median * 1000:7.1f} ms over {args.runs} runs")
    added = (medians["proxy"] - medians["no proxy"]) * 1000
    print(f"added per attempt  {added:7.1f} ms")
    server.shutdown()


if __name__ == "__main__":
    main()
