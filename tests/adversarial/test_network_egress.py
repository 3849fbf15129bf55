"""Network isolation, tried as an attacker would, through the CLI: a worker (an ``agent:``
backend with a custom command) reaches exactly its configured model endpoint and nothing else:
not the review page on loopback, not another loopback port, not another host through the proxy.
An endpoint that does not answer fails the attempt at once, before the worker starts."""

from __future__ import annotations

import http.server
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crewchief.sandbox.runner import bwrap_path
from repo_helpers import PY, crewchief, default_config, git, task_states

WORKER = Path(__file__).parent / "net_worker.py"
pytestmark = pytest.mark.skipif(bwrap_path() is None, reason="network isolation needs bwrap")


class _ModelHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        body = b"scripted-model"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def model_server() -> Iterator[http.server.ThreadingHTTPServer]:
    """A scripted model endpoint on 127.0.0.1 that counts the requests it answers."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ModelHandler)
    server.hits = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class Bystander:
    """Another loopback service: it records every connection that reaches it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join()


@pytest.fixture
def bystander() -> Iterator[Bystander]:
    found = Bystander()
    yield found
    found.close()


@pytest.fixture
def review_port(project: Path) -> Iterator[int]:
    """``crewchief serve`` on the project, on a free loopback port."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crewchief.web.commands", "--port", "0", "--repo", str(project)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        assert proc.stdout is not None
        port = None
        for line in proc.stdout:
            found = re.search(r"open http://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = int(found.group(1))
                break
        try:
            assert port is not None, "serve printed no address"
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            proc.stdout.close()


def _configure(project: Path, endpoint: str, targets: list[list[str]]) -> Path:
    command = json.dumps([PY, str(WORKER), json.dumps(targets)])
    (project / "crewchief.toml").write_text(
        default_config(max_attempts=1)
        + f'\n[agents.prober]\ncommand = {command}\nprompt_via = "stdin"\n'
        + f'\n[agents.prober.sandbox]\nmode = "bwrap"\nmodel_endpoint = "{endpoint}"\n'
    )
    git(project, "commit", "-qam", "configure the probing agent")
    plan = {
        "goal": "probe the network",
        "planner": "hand-written",
        "tasks": [
            {
                "id": "probe",
                "title": "probe the network",
                "instructions": "reach out",
                "owned_paths": ["net/"],
                "backend": "agent:prober",
            }
        ],
    }
    path = project.parent / "net-plan.json"
    path.write_text(json.dumps(plan))
    return path


def _reached_main(project: Path) -> dict[str, str]:
    result: dict[str, str] = json.loads(git(project, "show", "main:net/result.json"))
    return result


def test_a_worker_reaches_its_model_endpoint_and_nothing_else(
    project: Path,
    model_server: http.server.ThreadingHTTPServer,
    bystander: Bystander,
    review_port: int,
) -> None:
    model_port = model_server.server_address[1]
    endpoint = f"http://127.0.0.1:{model_port}"
    plan = _configure(
        project,
        endpoint,
        [
            ["model", "http", f"{endpoint}/v1/models"],
            ["review_page", "http", f"http://127.0.0.1:{review_port}/"],
            ["other_port", "http", f"http://127.0.0.1:{bystander.port}/"],
            ["other_host", "http", "http://example.com/"],
            ["other_host_tunnel", "connect", "example.com:443"],
            ["review_page_tunnel", "connect", f"127.0.0.1:{review_port}"],
            ["model_tunnel", "connect", f"127.0.0.1:{model_port}"],
        ],
    )
    proc = crewchief(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert task_states(project) == {"probe": "merged"}
    seen = _reached_main(project)
    assert seen["model"] == "ok 200 scripted-model"
    assert seen["model_tunnel"].startswith("answer HTTP/1.1 200")
    for loopback in ("review_page", "other_port"):
        assert seen[loopback].startswith("refused ConnectionRefusedError"), seen
    assert seen["other_host"].startswith("http 403 crewchief egress: example.com:80 is not")
    assert seen["other_host_tunnel"].startswith("answer HTTP/1.1 403 Forbidden")
    assert f"127.0.0.1:{review_port} is not an allowed endpoint" in seen["review_page_tunnel"]
    assert bystander.connections == 0
    shown = json.loads(crewchief(project, "show", "probe", "--json").stdout)
    log = shown["attempts"][0]["result"]["log"]
    assert log.startswith("network refused (not an allowed endpoint): example.com:80, ")
    assert f"127.0.0.1:{review_port}" in log.splitlines()[0]
    assert model_server.hits == 1  # the GET; the tunnel was opened, nothing sent  # type: ignore[attr-defined]


def test_an_unreachable_endpoint_fails_the_attempt_at_once_with_the_reason(
    project: Path, bystander: Bystander
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening
        plan = _configure(project, dead, [["model", "http", dead]])
        proc = crewchief(project, "run", "--plan", str(plan), "--yes")
    assert proc.returncode != 0
    assert task_states(project)["probe"] != "merged"
    events = json.loads(crewchief(project, "log", "--json").stdout)
    finished = [e["data"] for e in events if e["kind"] == "attempt_finished"]
    assert [f["status"] for f in finished] == ["error"], events
    said = [json.dumps(e["data"]) for e in events if "unreachable" in json.dumps(e["data"])]
    assert said, events
    assert f"model endpoint {dead} (127.0.0.1:" in said[0]
    assert "is unreachable from this machine" in said[0] and "the worker was not started" in said[0]
    assert finished[0]["duration_s"] < 30  # a backstop: the task's timeout is 60 s
    assert "net/result.json" not in git(project, "ls-tree", "-r", "--name-only", "main")
