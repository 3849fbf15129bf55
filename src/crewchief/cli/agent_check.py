"""What ``doctor`` checks of one external coding CLI before a run needs it.

Found on PATH; its version, and whether that is the release the contract tests ran its template
on; every flag the template passes, looked up in the installed CLI's own ``--help``; its model key,
wherever it is configured (crewchief's environment or ``[agents.NAME].env``); and, when a
``base_url`` is set, the model endpoint itself, with one cheap request (its model list). A probe
that fails is tried once more before it counts. Key values are never read into the report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from crewchief.backends.agent_templates import AgentTemplate
from crewchief.backends.external import NO_KEY, agent_template
from crewchief.errors import UserError
from crewchief.ledger.redact import is_secret_name
from crewchief.records import Record
from crewchief.sandbox.runner import report

_RUN_TIMEOUT_S = 20.0
_PROBE_TIMEOUT_S = 10.0
_PROBE_TRIES = 2
_PROBE_PAUSE_S = 1.0


class AgentStatus(Record):
    """One configured agent, as doctor found it. ``problems`` and ``warnings`` are plain words."""

    name: str
    program: str
    path: str | None
    version: str | None
    tested_version: str | None = None
    keys_set: tuple[str, ...] = ()
    keys_unset: tuple[str, ...] = ()
    flags_missing: tuple[str, ...] = ()
    endpoint: str | None = None
    endpoint_ok: bool | None = None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    sandbox: str = Field(default="", description="The sandbox this agent really runs in.")
    sandbox_weak: bool = Field(default=False, description="Network open or not isolated.")


def check_agent(
    name: str, overrides: Mapping[str, Any] | None, env: Mapping[str, str]
) -> AgentStatus:
    """Everything a run will need of agent ``name`` (``overrides``: its ``[agents.NAME]``)."""
    try:
        t = agent_template(name, overrides)
    except UserError as e:
        return AgentStatus(name=name, program="", path=None, version=None, error=str(e))
    keys_set, keys_unset = _keys(t, env)
    sandbox, weak = agent_sandbox(t)
    path = shutil.which(t.program, path=env.get("PATH"))
    if path is None:
        return AgentStatus(
            name=name, program=t.program, path=None, version=None, keys_set=keys_set,
            keys_unset=keys_unset, problems=(f"{t.program} is not on PATH",),
            sandbox=sandbox, sandbox_weak=weak,
        )  # fmt: skip
    version = _first_line(_output(path, t.version_args))
    missing = _missing_flags(t, _output(path, t.help_args))
    problems = [f"{t.program} does not accept {', '.join(missing)} (see its --help)"] * bool(
        missing
    )
    warnings = []
    if t.tested_version and (version is None or t.tested_version not in version):
        warnings.append(
            f"installed {version or 'version unknown'}; crewchief was tested with "
            f"{t.tested_version}"
        )
    if keys_unset and not keys_set:
        warnings.append("no model key set: " + " or ".join(keys_unset))
    endpoint, reached = None, None
    if t.base_url:
        endpoint = t.base_url
        reached, said = probe_endpoint(t, _key_value(t, env))
        (warnings if reached else problems).append(said)
    return AgentStatus(
        name=name, program=t.program, path=path, version=version,
        tested_version=t.tested_version, keys_set=keys_set, keys_unset=keys_unset,
        flags_missing=missing, endpoint=endpoint, endpoint_ok=reached,
        problems=tuple(problems), warnings=tuple(w for w in warnings if w),
        sandbox=sandbox, sandbox_weak=weak,
    )  # fmt: skip


def agent_sandbox(t: AgentTemplate) -> tuple[str, bool]:
    """(the sandbox agent ``t`` really runs in, in words; whether it is weak): bubblewrap or
    not, and what its network reaches (only its configured endpoints, unless opted out)."""
    endpoints = [*t.sandbox.endpoints(), *filter(None, [t.base_url])]
    try:
        box = report(t.sandbox, endpoints)
    except UserError as e:
        return f"refuses to run: {e}", True
    where = "bubblewrap" if box.bwrap else "no sandbox (limits and environment only)"
    return f"{where}; network: {box.network}", not box.network_isolated


def _output(path: str, args: tuple[str, ...]) -> str:
    try:
        out = subprocess.run(
            [path, *args],
            capture_output=True,
            text=True,
            timeout=_RUN_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.stdout or "") + (out.stderr or "")


def _first_line(text: str) -> str | None:
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else None


def _missing_flags(t: AgentTemplate, help_text: str) -> tuple[str, ...]:
    """The template's flags the installed CLI's help does not list (none when help is empty:
    nothing to judge by, and the version check already warns)."""
    if not help_text.strip():
        return ()
    return tuple(
        f for f in t.flags() if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", help_text)
    )


def _keys(t: AgentTemplate, env: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Which key variables are set, in the environment or the template's own env."""
    where = {**env, **t.env}
    names = [t.api_key_env] if t.api_key_env else [k for k in t.pass_env if is_secret_name(k)]
    if t.base_url and not t.api_key_env:
        return (), ()  # a local server: no key needed
    return tuple(k for k in names if where.get(k)), tuple(k for k in names if not where.get(k))


def _key_value(t: AgentTemplate, env: Mapping[str, str]) -> str:
    where = {**env, **t.env}
    return (where.get(t.api_key_env) if t.api_key_env else None) or NO_KEY


def probe_endpoint(t: AgentTemplate, key: str) -> tuple[bool, str]:
    """One GET of the model list at ``t.base_url`` (tried twice); (reached, what happened)."""
    assert t.base_url is not None
    base = t.base_url.rstrip("/")
    if t.api == "anthropic":
        url = base + ("/models" if base.endswith("/v1") else "/v1/models")
        headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    else:
        url, headers = base + "/models", {"Authorization": f"Bearer {key}"}
    said = ""
    for attempt in range(_PROBE_TRIES):
        if attempt:
            time.sleep(_PROBE_PAUSE_S)
        reached, said = _get(url, headers)
        if reached is not None:
            return reached, said
    return False, said


def _get(url: str, headers: dict[str, str]) -> tuple[bool | None, str]:
    """(True, …) answered, (False, …) answered no, (None, …) not reached (worth a retry)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=_PROBE_TIMEOUT_S) as response:
            return True, f"model endpoint {url} answers (HTTP {response.status})"
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            return False, f"model endpoint {url} refuses the key (HTTP {e.code})"
        if e.code == 404:
            return True, f"model endpoint {url} is up but has no model list (HTTP 404)"
        return None, f"model endpoint {url} answers HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return None, f"cannot reach the model endpoint {url}: {reason}"
