"""Whether bubblewrap can sandbox work on this machine: probed, retried, remembered when it can.

A probe that fails under load (a namespace that cannot come up once) is tried again before
bubblewrap is declared unusable, and only a success is cached: "no sandbox" is never concluded
from one transient failure. When it is unusable, :class:`SandboxUnavailable` says how to fix it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from crewchief.errors import UserError

#: Tries of the bwrap probe before bubblewrap is declared unusable: under load a namespace can
#: fail to come up once, and that must never be read as "no sandbox here".
PROBE_TRIES = 4
_PROBE_BACKOFF_S = 0.25
_PROBE_TIMEOUT_S = 30.0
_usable: dict[str, str] = {}


class SandboxUnavailable(UserError):
    """Sandboxed work was asked for and bubblewrap cannot provide it: nothing ran."""


def probe_bwrap(program: str = "bwrap") -> str:
    """The path of a bubblewrap that can create namespaces here; SandboxUnavailable (with how to
    fix it) otherwise. A failed probe is retried; only a success is remembered."""
    if program in _usable:
        return _usable[program]
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(_refusal(program, f"this is {sys.platform}, not Linux"))
    path = shutil.which(program)
    if path is None:
        raise SandboxUnavailable(_refusal(program, f"{program!r} is not found"))
    reason = ""
    for attempt in range(PROBE_TRIES):
        ok, reason = _probe_once(path)
        if ok:
            _usable[program] = path
            return path
        time.sleep(_PROBE_BACKOFF_S * (attempt + 1))
    raise SandboxUnavailable(_refusal(program, f"{path} cannot create a sandbox: {reason}"))


def _probe_once(path: str) -> tuple[bool, str]:
    argv = [path, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent"]
    try:
        proc = subprocess.run(
            [*argv, "true"], capture_output=True, check=False, timeout=_PROBE_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    detail = proc.stderr.decode(errors="replace").strip() or f"exit {proc.returncode}"
    return proc.returncode == 0, detail


def _refusal(program: str, reason: str) -> str:
    return (
        f"refusing to run workers' code without a sandbox: bubblewrap is needed and {reason}. "
        "Install it (apt install bubblewrap), point `bwrap` in crewchief.toml at it, or, only "
        'if you trust every worker, opt out explicitly with sandbox = "off"'
    )


def bwrap_path(program: str = "bwrap") -> str | None:
    """The usable bubblewrap, or None (for reports: work that needs it calls probe_bwrap)."""
    try:
        return probe_bwrap(program)
    except SandboxUnavailable:
        return None
