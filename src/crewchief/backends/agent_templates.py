"""How to drive each external coding CLI: templates as plain data, the prompt, output parsers.

A template says which command to run, how the prompt reaches it (an argument, stdin or a file),
which environment variables it needs (model keys, passed on purpose and never logged) and how to
read its output: the last message becomes the rationale, and usage/cost is recorded where the
CLI reports it (None where it does not: unknown, not zero).

Placeholders in ``command``: ``{prompt}`` (the prompt text), ``{prompt_file}`` (a file holding
it), ``{model}``, ``{worktree}``, ``{scratch}`` (a private directory that is removed afterwards)
and ``{owned_files}`` (as a whole argument: one argument per owned file that exists).
"""

from __future__ import annotations

import hashlib
import string
from typing import Any, Literal

from pydantic import Field

from crewchief.backends.agent_output import AgentOutput, OutputFormat, assumptions, parse_output
from crewchief.backends.base import WorkContext
from crewchief.records import Record, Task
from crewchief.sandbox import SandboxConfig

__all__ = ["AgentOutput", "AgentTemplate", "assumptions", "parse_output", "render_prompt"]

#: The prompt every external agent receives; ``string.Template`` with every variable required.
PROMPT_TEMPLATE = string.Template(
    """You are working in a git worktree of a repository. Make the change below, then stop.

## Task ${task_id}: ${title}

${instructions}
${feedback}
## Constraints
- Change only these paths (a path ending in / covers everything below it):
${owned}
- You may read these for context but not change them:
${context}
- Do not commit, push, create branches or touch .git: leave your edits in the working tree.
- Do not change file modes, add binary files, symlinks or submodules, and do not edit CI
  configuration or agent instruction files (.github/, AGENTS.md, CLAUDE.md, ...).
- Checks that will run on your change: ${checks}

## When you are done
Finish with a short summary of what you changed and why; it is recorded as your rationale.
Put each assumption you made on its own line starting with "ASSUMPTION:".
"""
)


class AgentTemplate(Record):
    """One external coding CLI. Loadable from a ``[agents.NAME]`` table of crewchief.toml."""

    name: str
    command: tuple[str, ...] = Field(min_length=1)
    prompt_via: Literal["arg", "stdin", "file"] = "arg"
    output: OutputFormat = "text"
    model: str | None = None
    model_args: tuple[str, ...] = Field(
        default=(), description="Appended when a model is set, e.g. ['--model', '{model}']."
    )
    pass_env: tuple[str, ...] = Field(
        default=(), description="Variables copied from crewchief's environment (model keys)."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Fixed extra variables.")
    version_args: tuple[str, ...] = ("--version",)
    timeout_s: float | None = Field(default=None, gt=0)
    sandbox: SandboxConfig = Field(default_factory=lambda: SandboxConfig(network=True))

    @property
    def program(self) -> str:
        return self.command[0]


def _builtin(name: str, command: tuple[str, ...], **fields: Any) -> AgentTemplate:
    return AgentTemplate.model_validate({"name": name, "command": command, **fields})


BUILTIN_AGENTS: dict[str, AgentTemplate] = {
    "codex": _builtin(
        "codex",
        ("codex", "exec", "--json", "--full-auto", "--skip-git-repo-check", "-"),
        prompt_via="stdin",
        output="codex-jsonl",
        model_args=("--model", "{model}"),
        pass_env=("OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"),
    ),
    "claude": _builtin(
        "claude",
        ("claude", "-p", "--output-format", "json", "--permission-mode", "acceptEdits"),
        prompt_via="stdin",
        output="claude-json",
        model_args=("--model", "{model}"),
        pass_env=("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_USE_BEDROCK"),
    ),
    "aider": _builtin(
        "aider",
        (
            "aider",
            "--message-file",
            "{prompt_file}",
            "--yes-always",
            "--no-auto-commits",
            "--no-dirty-commits",
            "--no-check-update",
            "--no-pretty",
            "--no-stream",
            "--no-gitignore",
            "--analytics-disable",
            "{owned_files}",
        ),
        prompt_via="file",
        output="aider",
        model_args=("--model", "{model}"),
        pass_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY"),
    ),
    "opencode": _builtin(
        "opencode",
        ("opencode", "run", "--format", "json", "{prompt}"),
        output="opencode-jsonl",
        model_args=("--model", "{model}"),
        pass_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY"),
    ),
    "mini": _builtin(
        "mini",
        ("mini", "-y", "--exit-immediately", "-o", "{scratch}/trajectory.json", "-t", "{prompt}"),
        output="mini",
        model_args=("--model", "{model}"),
        env={"MSWEA_CONFIGURED": "true", "MSWEA_COST_TRACKING": "ignore_errors"},
        pass_env=("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MSWEA_MODEL_NAME", "GEMINI_API_KEY"),
    ),
    "goose": _builtin(
        "goose",
        ("goose", "run", "--no-session", "--instructions", "{prompt_file}"),
        prompt_via="file",
        pass_env=("GOOSE_PROVIDER", "GOOSE_MODEL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"),
    ),
}


def render_prompt(task: Task, ctx: WorkContext) -> str:
    """The prompt for ``task`` (strict: a missing variable is an error, not an empty string)."""
    feedback = (
        f"\n## Feedback on the previous attempt\n\n{ctx.extra_instruction}\n"
        if (ctx.extra_instruction)
        else ""
    )
    return PROMPT_TEMPLATE.substitute(
        task_id=task.id,
        title=task.title,
        instructions=task.instructions.strip(),
        feedback=feedback,
        owned=_bullets(task.owned_paths),
        context=_bullets(task.context_paths),
        checks=", ".join(task.checks) or "the project's fast checks",
    )


def prompt_digest(prompt: str) -> str:
    return hashlib.sha256(prompt.encode()).hexdigest()


def _bullets(paths: tuple[str, ...]) -> str:
    return "\n".join(f"  - {p}" for p in paths) or "  (none)"


