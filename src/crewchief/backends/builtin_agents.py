"""The coding CLIs crewchief knows how to drive, as plain templates.

Each maps ``[agents.NAME]``'s ``model`` / ``base_url`` / ``api_key_env`` onto the CLI's own
configuration, keeps the CLI's state (history, caches, sessions, config) in its private HOME
outside the worktree, turns its own sandbox and approval prompts off in favour of crewchief's,
caps or watches its retries so that an unreachable model ends the attempt within seconds, and
names the release the contract tests (tests/agents/test_real_clis.py) ran it on. goose is not
installable from PyPI or npm, so its template has never been run by those tests.
"""

from __future__ import annotations

import json
from typing import Any

from crewchief.backends.agent_templates import AgentTemplate

#: The variable a CLI reads its key from when crewchief configures the provider itself.
MODEL_KEY_VAR = "CREWCHIEF_MODEL_KEY"


def _builtin(name: str, command: tuple[str, ...], **fields: Any) -> AgentTemplate:
    return AgentTemplate.model_validate({"name": name, "command": command, **fields})


def _codex_provider(key: str, value: str) -> str:
    return f"model_providers.crewchief.{key}={value}"


CODEX = _builtin(
    "codex",
    (
        "codex",
        "exec",
        "--json",
        "--dangerously-bypass-approvals-and-sandbox",
        "--skip-git-repo-check",
        "--ephemeral",
        "--color",
        "never",
        "-",
    ),
    prompt_via="stdin",
    output="codex-jsonl",
    model_args=("--model", "{model}"),
    # A provider of its own: OPENAI_BASE_URL no longer reaches codex's built-in one.
    endpoint_args=(
        "-c",
        'model_provider="crewchief"',
        "-c",
        _codex_provider("name", '"crewchief"'),
        "-c",
        _codex_provider("base_url", '"{base_url}"'),
        "-c",
        _codex_provider("env_key", f'"{MODEL_KEY_VAR}"'),
        "-c",
        _codex_provider("wire_api", '"responses"'),
        "-c",
        _codex_provider("request_max_retries", "0"),
        "-c",
        _codex_provider("stream_max_retries", "0"),
    ),
    key_vars=("CODEX_API_KEY", MODEL_KEY_VAR),
    pass_env=("OPENAI_API_KEY", "CODEX_API_KEY"),
    env={"CODEX_HOME": "{home}/.codex"},
    files={"home/.codex/config.toml": "# crewchief: settings come as -c overrides\n"},
    # codex keeps "Reconnecting..." forever when its server is down, whatever its retry caps.
    give_up_on=r"Reconnecting\.\.\.",
    help_args=("exec", "--help"),
    tested_version="0.171.0",
)

CLAUDE = _builtin(
    "claude",
    (
        "claude",
        "-p",
        "--output-format",
        "json",
        "--permission-mode",
        "acceptEdits",
        "--no-session-persistence",
    ),
    prompt_via="stdin",
    output="claude-json",
    api="anthropic",
    model_args=("--model", "{model}"),
    endpoint_env={"ANTHROPIC_BASE_URL": "{base_url}"},
    key_vars=("ANTHROPIC_API_KEY",),
    pass_env=("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_USE_BEDROCK"),
    env={
        "CLAUDE_CONFIG_DIR": "{home}/.claude",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
    },
    tested_version="2.1.332",
)

AIDER = _builtin(
    "aider",
    (
        "aider",
        "--message-file",
        "{prompt_file}",
        "--yes-always",
        "--no-auto-commits",
        "--no-dirty-commits",
        "--no-check-update",
        "--no-show-release-notes",
        "--no-pretty",
        "--no-stream",
        "--no-gitignore",
        "--analytics-disable",
        "--no-show-model-warnings",
        "--no-fancy-input",
        "--no-detect-urls",
        "--no-suggest-shell-commands",
        "--no-auto-lint",
        "--no-auto-test",
        "--no-restore-chat-history",
        "--chat-history-file",
        "{home}/aider.chat.history.md",
        "--input-history-file",
        "{home}/aider.input.history",
        # The repo map keeps a tags cache in the repository root: off, aider gets the files.
        "--map-tokens",
        "0",
        # SEARCH/REPLACE blocks whatever the model (aider picks "whole" for unknown ones).
        "--edit-format",
        "diff",
        "{owned_files}",
    ),
    prompt_via="file",
    output="aider",
    model_args=("--model", "{provider_model}"),
    endpoint_env={"OPENAI_API_BASE": "{base_url}", "ANTHROPIC_API_BASE": "{base_url}"},
    key_vars=("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    pass_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY"),
    env={"LITELLM_LOCAL_MODEL_COST_MAP": "True"},  # no download of litellm's price list
    # aider retries a refused connection with growing waits for a minute: stop at the first.
    give_up_on=r"^Retrying in [\d.]+ seconds",
    tested_version="0.86.2",
)

#: opencode's provider for base_url (an OpenAI-compatible server), as config content.
_OPENCODE_PROVIDER = json.dumps(
    {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        "provider": {
            "crewchief": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "crewchief",
                "options": {"baseURL": "{base_url}", "apiKey": f"{{env:{MODEL_KEY_VAR}}}"},
                "models": {"{raw_model}": {"name": "{raw_model}"}},
            }
        },
    }
)

OPENCODE = _builtin(
    "opencode",
    (
        "opencode",
        "run",
        "--format",
        "json",
        "--pure",
        "--auto",
        # Its logs on stderr are where a refused connection shows before its own long retries.
        "--print-logs",
        "--log-level",
        "WARN",
        "{prompt}",
    ),
    output="opencode-jsonl",
    model_args=("--model", "{model}"),
    endpoint_model="crewchief/{model}",
    endpoint_env={"OPENCODE_CONFIG_CONTENT": _OPENCODE_PROVIDER},
    key_vars=(MODEL_KEY_VAR,),
    pass_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY"),
    env={
        "OPENCODE_DISABLE_AUTOUPDATE": "true",
        "OPENCODE_DISABLE_MODELS_FETCH": "true",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "true",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "true",
    },
    # opencode retries a refused connection for about two minutes, silently on stdout.
    give_up_on=r"Cannot connect to API",
    tested_version="1.18.33",
)

MINI = _builtin(
    "mini",
    ("mini", "-y", "--exit-immediately", "-o", "{scratch}/trajectory.json", "-t", "{prompt}"),
    output="mini",
    model_args=("--model", "{provider_model}"),
    # Any -c replaces mini's default config, so name it again before the override.
    endpoint_args=(
        "-c",
        "mini.yaml",
        "-c",
        "model.model_kwargs.api_base={base_url}",
        "-c",
        "model.model_kwargs.max_retries=0",  # the OpenAI SDK's own retries under litellm
    ),
    key_vars=("OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    pass_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MSWEA_MODEL_NAME", "GEMINI_API_KEY"),
    env={
        "MSWEA_CONFIGURED": "true",
        "MSWEA_SILENT_STARTUP": "1",
        "MSWEA_GLOBAL_CONFIG_DIR": "{home}/.config/mini-swe-agent",
        # An unpriced model must not stop mini; the parser then records the cost as unknown.
        "MSWEA_COST_TRACKING": "ignore_errors",
        # One model request, no retries: a refused connection ends the attempt at once.
        "MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    },
    tested_version="2.4.6",
)

GOOSE = _builtin(
    "goose",
    ("goose", "run", "--no-session", "--instructions", "{prompt_file}"),
    prompt_via="file",
    pass_env=("GOOSE_PROVIDER", "GOOSE_MODEL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
)

BUILTIN_AGENTS: dict[str, AgentTemplate] = {
    t.name: t for t in (CODEX, CLAUDE, AIDER, OPENCODE, MINI, GOOSE)
}
