"""The allowlist's own rules: where endpoints come from, what is a user error, that the opt-out
is loud, and that a worker cannot take over the way out."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crewchief.errors import UserError
from crewchief.sandbox.egress import model_endpoints, parse_endpoint
from crewchief.sandbox.runner import SandboxConfig, WorkerSandbox, bwrap_path
from repo_helpers import init_repo

needs_bwrap = pytest.mark.skipif(bwrap_path() is None, reason="needs bwrap")


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "repo")


@pytest.fixture
def listening() -> Iterator[str]:
    """A loopback endpoint that accepts connections (nothing more is needed here)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


def test_endpoints_are_the_sandboxs_and_the_base_urls_the_configuration_passes() -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9000/v1", "OPENAI_API_KEY": "k", "X_BASE_URL": "no"}
    found = model_endpoints(["https://api.anthropic.com"], env)
    assert found == ["https://api.anthropic.com", "http://127.0.0.1:9000/v1"]
    assert parse_endpoint(found[0]).address == "api.anthropic.com:443"
    assert parse_endpoint("http://[::1]:8123/v1").address == "[::1]:8123"


@pytest.mark.parametrize("url", ["ftp://example.com", "127.0.0.1:8123", "http://", "http://h:x"])
def test_an_endpoint_that_is_not_an_http_url_is_a_user_error(url: str) -> None:
    with pytest.raises(UserError, match="model endpoint"):
        parse_endpoint(url)


@needs_bwrap
def test_the_open_network_opt_out_is_logged_as_a_warning_every_time(
    worktree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crewchief.sandbox.egress"):
        for _ in range(2):
            with WorkerSandbox(worktree, SandboxConfig(mode="bwrap", network=True)) as box:
                box.run(["true"], timeout_s=60)
    warnings = [r.getMessage() for r in caplog.records if "network is ON" in r.getMessage()]
    assert len(warnings) == 2


@needs_bwrap
def test_a_worker_cannot_replace_the_way_out(worktree: Path, listening: str) -> None:
    config = SandboxConfig(mode="bwrap", model_endpoint=listening)
    attack = (
        "import os, socket, sys\n"
        "d = sys.argv[1]\n"
        "for name in sorted(os.listdir(d)):\n"
        "    path = os.path.join(d, name)\n"
        "    try:\n"
        "        os.unlink(path)\n"
        "        print('removed', name)\n"
        "    except OSError as e:\n"
        "        print('kept', name, e.strerror)\n"
    )
    with WorkerSandbox(worktree, config) as box:
        run = box.run([sys.executable, "-c", attack, str(box.net.directory)], timeout_s=60)
        left = sorted(p.name for p in box.net.directory.iterdir())
    lines = run.stdout.text().splitlines()
    assert lines and all(line.startswith("kept ") for line in lines), lines
    assert left == ["direct0.sock", "proxy.sock"]
