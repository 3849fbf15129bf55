"""Agent templates are plain data: built-ins overlaid by [agents.NAME] tables of crewchief.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from crewchief.backends.agent_templates import parse_output, render_prompt
from crewchief.backends.base import WorkContext
from crewchief.backends.builtin_agents import BUILTIN_AGENTS
from crewchief.backends.external import (
    ExternalAgentBackend,
    agent_backend,
    agent_tables,
    agent_template,
)
from crewchief.errors import UserError
from crewchief.records import Task


def test_every_builtin_is_named_and_runs_a_command() -> None:
    assert set(BUILTIN_AGENTS) == {"codex", "claude", "aider", "opencode", "mini", "goose"}
    for name, template in BUILTIN_AGENTS.items():
        assert template.name == name and template.command


def test_backend_name_is_the_task_backend_string() -> None:
    backend = agent_backend("claude")
    assert isinstance(backend, ExternalAgentBackend) and backend.name == "agent:claude"


def test_table_overlays_a_builtin_and_merges_its_sandbox() -> None:
    t = agent_template("codex", {"model": "gpt-5-mini", "sandbox": {"max_output_bytes": 4096}})
    assert t.model == "gpt-5-mini"
    assert t.command == BUILTIN_AGENTS["codex"].command
    assert t.sandbox.max_output_bytes == 4096
    assert t.sandbox.network  # kept from the built-in


def test_custom_agent_needs_a_command() -> None:
    t = agent_template("mine", {"command": ["my-agent", "--task", "{prompt}"]})
    assert t.command == ("my-agent", "--task", "{prompt}") and t.prompt_via == "arg"
    with pytest.raises(UserError, match="unknown agent 'nope'"):
        agent_template("nope")


def test_bad_table_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"\[agents.claude\]"):
        agent_template("claude", {"prompt_via": "carrier pigeon"})


def test_agent_tables_are_read_from_crewchief_toml(tmp_path: Path) -> None:
    (tmp_path / "crewchief.toml").write_text(
        '[agents.claude]\nmodel = "claude-sonnet-4-5"\n\n'
        '[agents.local]\ncommand = ["./agent.sh", "{prompt_file}"]\nprompt_via = "file"\n'
    )
    tables = agent_tables(tmp_path)
    assert agent_template("claude", tables["claude"]).model == "claude-sonnet-4-5"
    assert agent_template("local", tables["local"]).prompt_via == "file"
    assert agent_tables(tmp_path / "missing") == {}


def test_model_key_is_passed_only_when_named(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"ANTHROPIC_API_KEY": "key-1234567890", "UNRELATED_TOKEN": "x" * 20}
    passed = ExternalAgentBackend(agent_template("claude"), env=env).passed_env()
    assert passed["ANTHROPIC_API_KEY"] == "key-1234567890"
    assert "UNRELATED_TOKEN" not in passed and "x" * 20 not in passed.values()


def test_prompt_states_task_scope_and_feedback(tmp_path: Path) -> None:
    task = Task(
        id="t7", title="Rename", instructions="Rename foo to bar.", owned_paths=("src/",),
        context_paths=("docs/api.md",), checks=("ruff",), backend="agent:codex",
    )  # fmt: skip
    ctx = WorkContext(tmp_path, "abc", "a1", 10.0, extra_instruction="Also update the tests.")
    prompt = render_prompt(task, ctx)
    for expected in ("Task t7: Rename", "Rename foo to bar.", "  - src/", "  - docs/api.md",
                     "Also update the tests.", "ruff", "ASSUMPTION:"):  # fmt: skip
        assert expected in prompt


def test_aider_token_line_is_parsed() -> None:
    out = (
        b"Applied edit to src/a.py\n"
        b"Tokens: 2.1k sent, 130 received. Cost: $0.01 message, $0.02 session.\n"
    )
    parsed = parse_output("aider", out)
    assert (parsed.usage.input_tokens, parsed.usage.output_tokens) == (2100, 130)
    assert parsed.usage.cost_usd == pytest.approx(0.02)
    assert parsed.message == "Applied edit to src/a.py"


def test_mini_trajectory_gives_cost_and_last_message() -> None:
    traj = b'{"info": {"model_stats": {"instance_cost": 0.5}}, "messages": [' \
        b'{"role": "assistant", "content": "first"}, {"role": "user", "content": "ok"},' \
        b'{"role": "assistant", "content": "final answer"}]}'  # fmt: skip
    parsed = parse_output("mini", b"noise", traj)
    assert parsed.message == "final answer" and parsed.usage.cost_usd == 0.5


def test_claude_error_result_marks_failure() -> None:
    out = b'{"type": "result", "subtype": "error_max_turns", "is_error": true, "result": ""}'
    assert parse_output("claude-json", out).failed
    assert parse_output("claude-json", b"not json at all").failed
