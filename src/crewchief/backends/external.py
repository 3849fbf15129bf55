"""The external-agent backend: a coding CLI (codex, claude, aider, …) run in the task's worktree.

The CLI runs inside a :class:`~crewchief.sandbox.runner.WorkerSandbox`: scrubbed environment,
bounded output, its whole process tree killed at the timeout, git metadata restored afterwards.
Commits it makes are irrelevant: the dispatcher takes the diff from the base commit to the working
tree. Everything it printed is redacted before it reaches the result (and so the ledger).

Task backend strings are ``agent:<name>``; :func:`agent_backend` resolves a name to a built-in
template (``codex``, ``claude``, ``aider``, ``opencode``, ``mini``, ``goose``) overlaid with the
``[agents.<name>]`` table of crewchief.toml, or to a fully custom command.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from crewchief.backends.agent_templates import (
    AgentOutput,
    AgentTemplate,
    assumptions,
    parse_output,
    prompt_digest,
    render_prompt,
)
from crewchief.backends.base import WorkContext, WorkerBackend
from crewchief.backends.builtin_agents import BUILTIN_AGENTS
from crewchief.errors import UserError
from crewchief.ledger.redact import Redactor
from crewchief.records import Task, WorkerResult, WorkerStatus
from crewchief.sandbox.egress import model_endpoints
from crewchief.sandbox.runner import SandboxConfig, SandboxRun, WorkerSandbox

#: Most owned files handed to a CLI as arguments (``{owned_files}``).
MAX_OWNED_FILE_ARGS = 200
#: Kept of each stream in WorkerResult.log: its start and its end (where the errors are).
LOG_HEAD_CHARS = 8 * 1024
LOG_TAIL_CHARS = 24 * 1024


#: A private git identity for CLIs that read ``user.name`` before they work (aider does, and
#: writes one into .git/config when it finds none): GIT_CONFIG_GLOBAL names this file.
_GITCONFIG = "[user]\n\tname = crewchief worker\n\temail = worker@crewchief.invalid\n"
#: The key's value when a base_url is set but no api_key_env: local servers ignore it, and
#: CLIs that insist on a key then still start.
NO_KEY = "no-key"


class ExternalAgentBackend:
    """A WorkerBackend that runs one AgentTemplate."""

    def __init__(self, template: AgentTemplate, env: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.name = f"agent:{template.name}"
        self._parent_env = dict(os.environ if env is None else env)

    def passed_env(self) -> dict[str, str]:
        """The variables this agent gets on purpose: its keys from the environment, the fixed
        env, and the api_key_env key under the CLI's own names (placeholders not yet filled)."""
        t = self.template
        keys = {k: self._parent_env[k] for k in t.pass_env if k in self._parent_env}
        found = {**self._parent_env, **t.env}.get(t.api_key_env) if t.api_key_env else None
        key = found or (NO_KEY if t.base_url else None)
        mapped = {name: key for name in t.key_vars} if key else {}
        endpoint = t.endpoint_env if t.base_url else {}
        return {**keys, **t.env, **endpoint, **mapped}

    def run(self, task: Task, ctx: WorkContext) -> WorkerResult:
        start = time.monotonic()
        prompt = render_prompt(task, ctx)
        env = self.passed_env()
        redactor = Redactor.from_env(env, names=env)
        timeout = min(ctx.timeout_s, self.template.timeout_s or ctx.timeout_s)
        # The one network a worker has: its configured endpoints (crewchief.sandbox.egress).
        configured = [*self.template.sandbox.endpoints(), *filter(None, [self.template.base_url])]
        endpoints = model_endpoints(configured, env)
        sandbox = self._sandbox(ctx)
        with WorkerSandbox(ctx.worktree, sandbox, env, endpoints, owner=ctx.attempt_id) as box:
            values = self._prepare(box, env, ctx.worktree, prompt)
            argv = self._argv(task, ctx.worktree, values)
            stdin = prompt.encode() if self.template.prompt_via == "stdin" else None
            watch = _GiveUp(self.template.give_up_on, self.template.give_up_after)
            run = box.run(argv, timeout_s=timeout, stdin=stdin, watch=watch)
            trajectory = _read_optional(box.scratch / "trajectory.json")
            parsed = parse_output(self.template.output, run.stdout.data(), trajectory)
            refused = tuple(box.net.refused)
        if parsed.usage.model is None and self.template.model:
            parsed = replace(
                parsed, usage=parsed.usage.model_copy(update={"model": self.template.model})
            )
        outcome = _Outcome(run, parsed, box.tampered, watch.line)
        result = _result(outcome, redactor, prompt, time.monotonic() - start)
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

    def _prepare(
        self, box: WorkerSandbox, env: dict[str, str], worktree: Path, prompt: str
    ) -> dict[str, str]:
        """Fill the placeholders of the environment and write the template's private files
        (and a git identity); returns the placeholder values for the command line."""
        values = self._values(box, worktree, prompt)
        box.extra_env.update({k: _fill(v, values) for k, v in env.items()})
        gitconfig = box.write_file("gitconfig", _GITCONFIG.encode())
        box.extra_env["GIT_CONFIG_GLOBAL"] = str(gitconfig)
        for rel, content in self.template.files.items():
            _write_private(box.scratch, rel, _fill(content, values))
        return values

    def _values(self, box: WorkerSandbox, worktree: Path, prompt: str) -> dict[str, str]:
        t = self.template
        return {
            "{prompt}": prompt,
            "{prompt_file}": str(box.write_file("prompt.md", prompt.encode())),
            "{model}": _fill(t.endpoint_model, {"{model}": t.model or ""})
            if t.base_url and t.endpoint_model
            else t.model or "",
            "{raw_model}": t.model or "",
            "{provider_model}": t.provider_model(),
            "{api}": t.api,
            "{base_url}": t.base_url or "",
            "{worktree}": str(worktree),
            "{scratch}": str(box.scratch),
            "{home}": str(box.home),
        }

    def _argv(self, task: Task, worktree: Path, values: dict[str, str]) -> list[str]:
        t = self.template
        command = [
            *t.command,
            *(t.model_args if t.model else ()),
            *(t.endpoint_args if t.base_url else ()),
        ]
        argv: list[str] = []
        for arg in command:
            if arg == "{owned_files}":
                argv += _owned_files(worktree, task.owned_paths)
            else:
                argv.append(_fill(arg, values))
        return argv


def _fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _write_private(scratch: Path, rel: str, content: str) -> None:
    """Write a template's file under the scratch directory (never outside it)."""
    path = (scratch / rel).resolve()
    if not path.is_relative_to(scratch):
        raise UserError(f"agent file {rel!r} would land outside its private directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


class _GiveUp:
    """Watches a CLI's output for its "cannot reach the model, retrying" line: after ``after``
    such lines the attempt ends at once (the CLI would otherwise retry until the timeout)."""

    def __init__(self, pattern: str | None, after: int) -> None:
        self._pattern = re.compile(pattern, re.MULTILINE) if pattern else None
        self._after = after
        self._seen = 0
        self._partial = b""
        self.line: str | None = None

    def __call__(self, chunk: bytes) -> bool:
        if self._pattern is None:
            return False
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").strip()
            if self._pattern.search(text):
                self._seen += 1
                self.line = self.line or text[:500]
        return self._seen >= self._after


@dataclass(frozen=True)
class _Outcome:
    run: SandboxRun
    parsed: AgentOutput
    tampered: tuple[str, ...]
    gave_up_on: str | None


def _result(outcome: _Outcome, redactor: Redactor, prompt: str, duration: float) -> WorkerResult:
    run, parsed = outcome.run, outcome.parsed
    status: WorkerStatus = "ok"
    error = None
    if run.timed_out:
        status, error = "timeout", f"no result within the time limit ({run.duration_s:.1f}s)"
    elif outcome.tampered:
        status, error = "error", "the agent changed git metadata: " + "; ".join(outcome.tampered)
    elif outcome.gave_up_on is not None:
        status = "error"
        error = f"the agent cannot reach its model (stopped it after: {outcome.gave_up_on})"
    elif run.returncode != 0 or parsed.failed:
        status, error = "error", f"agent exited with status {run.returncode}"
        error += f": {run.stderr.text()[-2000:].strip()}" if run.stderr.text().strip() else ""
        if parsed.error:
            error += f": {parsed.error}"
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
