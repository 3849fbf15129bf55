"""``crewchief doctor`` says the real sandbox of every configured agent: never "network off"
for an agent whose network is on."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crewchief.cli.doctor import diagnose
from crewchief.sandbox.runner import bwrap_path
from repo_helpers import make_repo

pytestmark = pytest.mark.skipif(bwrap_path() is None, reason="needs bwrap")
AGENT = [sys.executable, "-c", "pass"]


def _repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"README.md": "# r\n"}, message="base")


def _agent_line(tmp_path: Path, sandbox: dict[str, object]) -> tuple[str, str]:
    tables = {"mine": {"command": AGENT, "sandbox": sandbox}}
    report = diagnose(_repo(tmp_path), None, ["mine"], agent_tables=tables, run_tests=False)
    finding = next(f for f in report.findings if f.name == "agent mine")
    return finding.level, finding.detail


def test_an_agent_with_the_default_sandbox_is_reported_with_its_network_off(
    tmp_path: Path,
) -> None:
    level, detail = _agent_line(tmp_path, {})
    assert level == "ok" and detail.endswith("sandbox: bubblewrap; network: off")


def test_an_agent_with_a_model_endpoint_is_reported_with_only_that_endpoint(
    tmp_path: Path,
) -> None:
    level, detail = _agent_line(tmp_path, {"model_endpoint": "http://127.0.0.1:8123"})
    assert level == "ok" and detail.endswith("network: only http://127.0.0.1:8123")


def test_an_agent_that_opted_out_is_reported_with_its_network_on_as_a_warning(
    tmp_path: Path,
) -> None:
    level, detail = _agent_line(tmp_path, {"network": True})
    assert level == "warn" and "network: ON, no allowlist" in detail


def test_an_agent_without_bubblewrap_is_reported_as_not_isolated(tmp_path: Path) -> None:
    level, detail = _agent_line(tmp_path, {"mode": "none"})
    assert level == "warn" and "network: not isolated" in detail
