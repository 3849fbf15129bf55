"""``crewchief serve`` as a person starts it: a real server process on a loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from crewchief.web.commands import url_of

from .runs import Run, Served


def test_serve_prints_its_address_and_serves_the_runs(run: Run) -> None:
    with Served(run.repo) as served:
        assert served.url.startswith("http://127.0.0.1:")
        page = httpx.get(served.url, timeout=10)
    assert page.status_code == 200
    assert run.run_id in page.text
    assert any(str(run.repo) in line for line in served.printed)


def test_serve_with_a_token_asks_for_it(run: Run) -> None:
    with Served(run.repo, "--token", "tok-123") as served:
        assert served.url.endswith("/?token=tok-123")
        bare = served.url.split("?")[0]
        assert httpx.get(bare, timeout=10).status_code == 401
        with httpx.Client(timeout=10) as browser:
            assert browser.get(served.url).status_code == 200
            assert browser.get(bare + f"runs/{run.run_id}").status_code == 200  # cookie


def test_a_port_in_use_is_a_clear_error_with_exit_code_2(run: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "crewchief.web.commands",
                "--port",
                str(port),
                "--repo",
                str(run.repo),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_serving_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crewchief.web.commands", "--port", "0", "--repo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "not inside a git repository" in proc.stderr


def test_printed_address_of_a_wildcard_bind_names_this_machine_and_the_token() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert url_of("127.0.0.1", sock, None) == f"http://127.0.0.1:{port}/"
        wildcard = url_of("0.0.0.0", sock, "abc")
    assert wildcard == f"http://{socket.getfqdn()}:{port}/?token=abc"
