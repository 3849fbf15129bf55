"""`doctor` checks what a run will need of each configured agent, against the real installed CLI:
its flags in its own --help, its version against the tested one, its key wherever it is set, and
its model endpoint with one request; in plain words."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from real_clis import agents_bin

from crewchief.cli.agent_check import check_agent
from model_server import Reply, ScriptedModelServer, closed_port_url
from repo_helpers import crewchief, default_config, git


@pytest.fixture(scope="module")
def bin_env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{agents_bin()}{os.pathsep}{os.environ['PATH']}"}


def test_a_flag_the_installed_cli_does_not_accept_is_a_problem(bin_env: dict[str, str]) -> None:
    table = {"command": ["codex", "exec", "--json", "--full-auto", "-"]}
    status = check_agent("codex", table, bin_env)
    assert status.flags_missing == ("--full-auto",)
    assert "codex does not accept --full-auto" in status.problems[0]


def test_the_builtin_templates_flags_are_all_in_their_clis_help(bin_env: dict[str, str]) -> None:
    for name in ("codex", "claude", "aider"):
        status = check_agent(name, None, bin_env)
        assert status.path and status.flags_missing == (), (name, status)


def test_a_version_other_than_the_tested_one_is_a_warning(bin_env: dict[str, str]) -> None:
    status = check_agent("codex", {"tested_version": "0.0.1"}, bin_env)
    assert status.problems == ()
    assert "crewchief was tested with 0.0.1" in status.warnings[0]


def test_a_key_set_in_the_agent_table_counts(bin_env: dict[str, str]) -> None:
    table = {"api_key_env": "MY_CODEX_KEY", "env": {"MY_CODEX_KEY": "sk-abcdefghijkl"}}
    status = check_agent("codex", table, bin_env)
    assert status.keys_set == ("MY_CODEX_KEY",) and status.warnings == ()


def test_a_reachable_endpoint_answers_its_model_list(bin_env: dict[str, str]) -> None:
    with ScriptedModelServer(lambda r: Reply(text="ok")) as server:
        status = check_agent("codex", {"base_url": server.url + "/v1"}, bin_env)
        asked = [r.path for r in server.requests]
    assert status.endpoint_ok is True and status.problems == ()
    assert asked == ["/v1/models"]


def test_an_unreachable_endpoint_is_a_problem_in_plain_words(bin_env: dict[str, str]) -> None:
    url = closed_port_url()
    status = check_agent("claude", {"base_url": url}, bin_env)
    assert status.endpoint_ok is False
    assert status.problems[0].startswith(f"cannot reach the model endpoint {url}/v1/models")


def test_doctor_checks_every_configured_agent_not_only_the_default(
    project: Path, bin_env: dict[str, str]
) -> None:
    config = default_config(worker_backend="agent:claude")
    config += '\n[agents.codex]\nmodel = "m"\n\n[agents.aider]\nmodel = "m"\n'
    (project / "crewchief.toml").write_text(config)
    git(project, "commit", "-qam", "agents")
    old = os.environ["PATH"]
    os.environ["PATH"] = bin_env["PATH"]
    try:
        report = json.loads(crewchief(project, "doctor", "--no-tests", "--json").stdout)
    finally:
        os.environ["PATH"] = old
    assert [a["name"] for a in report["agents"]] == ["aider", "claude", "codex"]
    details = [f["detail"] for f in report["findings"] if f["name"].startswith("agent ")]
    assert len(details) == 3 and not any("('" in d for d in details)  # words, not tuples
