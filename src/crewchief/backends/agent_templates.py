"""How to drive an external coding CLI: the template as plain data, and the prompt it gets.

A template says which command to run, how the prompt reaches it (an argument, stdin or a file),
which environment variables it needs (model keys, passed on purpose and never logged), how the one
model setting of ``[agents.NAME]`` (``model``, ``base_url``, ``api``, ``api_key_env``) maps onto the
CLI's own flags, variables and config files, which output line means "cannot reach the model",
and how to read its output (see :mod:`crewchief.backends.agent_output`). The built-in templates
live in :mod:`crewchief.backends.builtin_agents`.

Placeholders, in ``command``, ``model_args``, ``endpoint_args``, ``env``, ``endpoint_env`` and
``files``: ``{prompt}`` (the prompt text), ``{prompt_file}`` (a file holding it), ``{model}``
(``endpoint_model`` filled in, when base_url is set and it is given), ``{raw_model}`` (as set),
``{provider_model}`` (``{api}/{model}`` unless the model already names a provider, as litellm
wants it), ``{api}``, ``{base_url}``, ``{worktree}``, ``{scratch}`` (a private directory outside
the worktree, removed afterwards), ``{home}`` (the CLI's private HOME inside it) and
``{owned_files}`` (as a whole argument: one argument per owned file that exists).
"""

from __future__ import annotations

import hashlib
import string
from typing import Literal

from pydantic import Field

from crewchief.backends.agent_output import AgentOutput, OutputFormat, assumptions, parse_output
from crewchief.backends.base import WorkContext
from crewchief.records import Record, Task
from crewchief.sandbox.runner import SandboxConfig

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


Api = Literal["openai", "anthropic"]


class AgentTemplate(Record):
    """One external coding CLI. Loadable from a ``[agents.NAME]`` table of crewchief.toml."""

    name: str
    command: tuple[str, ...] = Field(min_length=1)
    prompt_via: Literal["arg", "stdin", "file"] = "arg"
    output: OutputFormat = "text"
    model: str | None = Field(default=None, description="The model the CLI should use.")
    base_url: str | None = Field(
        default=None, description="An OpenAI- or Anthropic-compatible server to use instead."
    )
    api: Api = Field(default="openai", description="What the server at base_url speaks.")
    api_key_env: str | None = Field(
        default=None,
        description="Variable holding the model key (crewchief's environment or env below).",
    )
    endpoint_model: str | None = Field(
        default=None,
        description="What {model} stands for when base_url is set, e.g. 'crewchief/{model}'.",
    )
    model_args: tuple[str, ...] = Field(
        default=(), description="Appended when a model is set, e.g. ['--model', '{model}']."
    )
    endpoint_args: tuple[str, ...] = Field(
        default=(), description="Appended when base_url is set (the CLI's own endpoint flags)."
    )
    endpoint_env: dict[str, str] = Field(
        default_factory=dict, description="Variables set when base_url is set."
    )
    key_vars: tuple[str, ...] = Field(
        default=(), description="The CLI's own variables that receive the api_key_env key."
    )
    pass_env: tuple[str, ...] = Field(
        default=(), description="Variables copied from crewchief's environment (model keys)."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Fixed extra variables.")
    files: dict[str, str] = Field(
        default_factory=dict,
        description="Files written under {scratch} before the run (config the CLI reads).",
    )
    give_up_on: str | None = Field(
        default=None,
        description="A regex on the CLI's output meaning it cannot reach its model (it retries).",
    )
    give_up_after: int = Field(default=1, ge=1, description="Lines matching give_up_on to stop.")
    version_args: tuple[str, ...] = ("--version",)
    help_args: tuple[str, ...] = Field(
        default=("--help",), description="Arguments that print the help listing its flags."
    )
    tested_version: str | None = Field(
        default=None, description="The release crewchief's contract tests ran this template on."
    )
    timeout_s: float | None = Field(default=None, gt=0)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)

    @property
    def program(self) -> str:
        return self.command[0]

    def provider_model(self) -> str:
        """The model as litellm-based CLIs want it: ``openai/<m>`` unless it names a provider."""
        model = self.model or ""
        return model if "/" in model or not model else f"{self.api}/{model}"

    def flags(self) -> tuple[str, ...]:
        """The options this template passes (``--json``, ``-c``), to check against ``--help``."""
        args = [*self.command[1:], *self.model_args, *self.endpoint_args]
        found = [a.split("=", 1)[0] for a in args if a.startswith("-") and a != "-"]
        return tuple(dict.fromkeys(found))


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
