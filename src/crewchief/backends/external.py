"""The external-agent backend: a coding CLI (codex, claude, aider, …) run in the task's worktree.

The CLI runs inside a :class:`~crewchief.sandbox.WorkerSandbox`: scrubbed environment, bounded
output, its whole process tree killed at the timeout, git metadata restored afterwards. Commits it
makes are irrelevant: the dispatcher takes the diff from the base commit to the working tree.
Everything it printed is redacted before it reaches the result (and so the ledger).

Task backend strings are ``agent:<name>``; :func:`agent_backend` resolves a name to a built-in
template (``codex``, ``claude``, ``aider``, ``opencode``, ``mini``, ``goose``) overlaid with the
``[agents.<name>]`` table of crewchief.toml, or to a fully custom command.
"""

from __future__ import annotations

import os
import subprocess
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crewchief.backends.agent_templates import (
    BUILTIN_AGENTS,
    AgentOutput,
    AgentTemplate,
    assumptions,
    parse_output,
    prompt_digest,
    render_prompt,
)
from crewchief.backends.base import WorkContext, WorkerBackend
from crewchief.egress import model_endpoints
from crewchief.errors import UserError
from crewchief.records import Task, WorkerResult, WorkerStatus
from crewchief.redact import Redactor
from crewchief.sandbox import SandboxConfig, SandboxRun, WorkerSandbox

#: Most owned files handed to a CLI as arguments (``{owned_files}``).
MAX_OWNED_FILE_ARGS = 200
#: Kept of each stream in WorkerResult.log: its start and its end (where the errors are).
LOG_HEAD_CHARS = 8 * 1024
LOG_TAIL_CHARS = 24 * 1024


class ExternalAgentBackend:
    """A WorkerBackend that runs one AgentTemplate."""

    def __init__(self, template: AgentTemplate, env: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.name = f"agent:{template.name}"
        self._parent_env = dict(os.environ if env is None else env)

    def passed_env(self) -> dict[str, str]:
        """The variables this agent gets on purpose: its keys from the environment, fixed env."""
        keys = {k: self._parent_env[k] for k in self.template.pass_env if k in self._parent_env}
        return {**keys, **self.template.env}

    def run(self, task: Task, ctx: WorkContext) -> WorkerResult:
        start = time.monotonic()
        prompt = render_prompt(task, ctx)
        env = self.passed_env()
        redactor = Redactor.from_env(env, names=env)
        timeout = min(ctx.timeout_s, self.template.timeout_s or ctx.timeout_s)
        endpoints = model_endpoints(self.template.sandbox.endpoints(), env)
        sandbox = self._sandbox(ctx)
        with WorkerSandbox(ctx.worktree, sandbox, env, endpoints, owner=ctx.attempt_id) as box:
            argv = self._argv(box, task, ctx.worktree, prompt)
            stdin = prompt.encode() if self.template.prompt_via == "stdin" else None
            run = box.run(argv, timeout_s=timeout, stdin=stdin)
            trajectory = _read_optional(box.scratch / "trajectory.json")
            parsed = parse_output(self.template.output, run.stdout.data(), trajectory)
            refused = tuple(box.net.refused)
        result = _result(run, parsed, box.tampered, redactor, prompt, time.monotonic() - start)
        if not refused:
            return result
        note = "network refused (not an allowed endpoint): " + ", ".join(refused) + "\n"
        return result.model_copy(update={"log": redactor.redact(note) + result.log})

    def _sandbox(self, ctx: WorkContext) -> SandboxConfig:
        """The template's sandbox, with the run's bubblewrap unless the template names one."""
        box = self.template.sandbox
        if "bwrap" in box.model_fields_set:
            return box
        return box.model_copy(update={"bwrap": ctx.sandbox.bwrap})

    def _argv(self, box: WorkerSandbox, task: Task, worktree: Path, prompt: str) -> list[str]:
        prompt_file = box.write_file("prompt.md", prompt.encode())
        values = {
            "{prompt}": prompt,
            "{prompt_file}": str(prompt_file),
            "{model}": self.template.model or "",
            "{worktree}": str(worktree),
            "{scratch}": str(box.scratch),
        }
        command = list(self.template.command)
        if self.template.model:
            command += self.template.model_args
        argv: list[str] = []
        for arg in command:
            if arg == "{owned_files}":
                argv += _owned_files(worktree, task.owned_paths)
                continue
            for key, value in values.items():
                arg = arg.replace(key, value)
            argv.append(arg)
        return argv


def _result(
    run: SandboxRun,
    parsed: AgentOutput,
    tampered: tuple[str, ...],
    redactor: Redactor,
    prompt: str,
    duration: float,
) -> WorkerResult:
    status: WorkerStatus = "ok"
    error = None
    if run.timed_out:
        status, error = "timeout", f"no result within the time limit ({run.duration_s:.1f}s)"
    elif tampered:
        status, error = "error", "the agent changed git metadata: " + "; ".join(tampered)
    elif run.returncode != 0 or parsed.failed:
        status, error = "error", f"agent exited with status {run.returncode}"
        error += f": {run.stderr.text()[-2000:].strip()}" if run.stderr.text().strip() else ""
    message = redactor.redact(parsed.message)
    return WorkerResult(
        status=status,
        rationale=message,
        assumptions=assumptions(message),
        log=redactor.redact(_log(run, prompt)),
        error=redactor.redact(error) if error else None,
        usage=parsed.usage,
        duration_s=duration,
    )


def _log(run: SandboxRun, prompt: str) -> str:
    head = f"prompt sha256 {prompt_digest(prompt)}; exit {run.returncode}; "
    head += f"{run.duration_s:.1f}s; leftover processes killed: {run.leftovers_killed}\n"
    for name, captured in (("stdout", run.stdout), ("stderr", run.stderr)):
        total = len(captured.head) + len(captured.tail) + captured.dropped
        head += f"{name}: {total} bytes" + (
            f", {captured.dropped} not kept\n" if captured.dropped else "\n"
        )
    out, err = _clip(run.stdout.text()), _clip(run.stderr.text())
    return f"{head}--- stdout ---\n{out}\n--- stderr ---\n{err}"


def _clip(text: str) -> str:
    if len(text) <= LOG_HEAD_CHARS + LOG_TAIL_CHARS:
        return text
    dropped = len(text) - LOG_HEAD_CHARS - LOG_TAIL_CHARS
    return (
        f"{text[:LOG_HEAD_CHARS]}\n[... {dropped} characters dropped ...]\n{text[-LOG_TAIL_CHARS:]}"
    )


def _read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _owned_files(worktree: Path, owned: tuple[str, ...]) -> list[str]:
    """Owned files that exist (for CLIs that take files as arguments): exact paths, plus the
    tracked files under owned directories."""
    files = [p for p in owned if not p.endswith("/") and (worktree / p).is_file()]
    dirs = [p for p in owned if p.endswith("/")]
    if dirs:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", *dirs],
            cwd=worktree,
            capture_output=True,
            check=False,
        ).stdout
        files += [os.fsdecode(p) for p in listed.split(b"\0") if p]
    return list(dict.fromkeys(files))[:MAX_OWNED_FILE_ARGS]


def agent_template(name: str, overrides: Mapping[str, Any] | None = None) -> AgentTemplate:
    """The template named ``name``: a built-in overlaid with ``overrides`` (an ``[agents.NAME]``
    table), or entirely from ``overrides`` when it gives a ``command``."""
    overrides = dict(overrides or {})
    builtin = BUILTIN_AGENTS.get(name)
    if builtin is None and "command" not in overrides:
        known = ", ".join(sorted(BUILTIN_AGENTS))
        raise UserError(
            f"unknown agent {name!r}: give [agents.{name}] a command (built-ins: {known})"
        )
    base = builtin.model_dump() if builtin is not None else {}
    if isinstance(overrides.get("sandbox"), dict) and "sandbox" in base:
        overrides["sandbox"] = {**base["sandbox"], **overrides["sandbox"]}
    try:
        return AgentTemplate.model_validate({**base, **overrides, "name": name})
    except ValidationError as e:
        raise UserError(f"[agents.{name}] in crewchief.toml: {e}") from e


def agent_backend(name: str, overrides: dict[str, Any] | None = None) -> WorkerBackend:
    """The WorkerBackend for ``agent:<name>`` (``overrides``: the ``[agents.NAME]`` table)."""
    return ExternalAgentBackend(agent_template(name, overrides))


def agent_tables(repo: Path) -> dict[str, dict[str, Any]]:
    """The ``[agents.*]`` tables of ``repo``'s crewchief.toml (empty if there is none)."""
    path = repo / "crewchief.toml"
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: {e}") from e
    agents = data.get("agents", {})
    if not isinstance(agents, dict) or not all(isinstance(v, dict) for v in agents.values()):
        raise UserError(f"{path}: [agents] must hold one table per agent")
    return agents
