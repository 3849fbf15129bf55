"""Whether this process runs inside a crewchief sandbox, told in ways a worker cannot undo.

The human gate (``crewchief review``/``merge``) must never act for a worker. A worker can unset
or change every environment variable it has, so the environment is only one of three signs:

- :data:`MARKER_PATH`, a file bubblewrap mounts read-only into every sandbox: a mount point
  cannot be removed or replaced without the capabilities the sandbox drops;
- the sandbox's variable (:data:`~crewchief.attempts.procio.MARKER_VAR`) in this process's
environment;
- the same variable in the environment any ancestor process *started* with
  (``/proc/PID/environ`` does not change when a process edits its environment), which catches
  ``env -u`` and sandboxes without bubblewrap.
"""

from __future__ import annotations

import os
from pathlib import Path

from crewchief.attempts.procio import MARKER_VAR
from crewchief.errors import UserError

MARKER_PATH = "/run/crewchief-sandbox"
_MAX_ANCESTORS = 64


def marker_args(scratch: Path) -> list[str]:
    """bubblewrap arguments that mount the marker file (written in ``scratch``) read-only."""
    marker = scratch / "sandbox-marker"
    marker.write_text("this process runs inside a crewchief sandbox\n")
    return ["--ro-bind", str(marker), MARKER_PATH]


def sandbox_sign() -> str | None:
    """Why this process looks to be inside a crewchief sandbox, or None if nothing says so."""
    if os.path.lexists(MARKER_PATH):
        return f"{MARKER_PATH} exists"
    if MARKER_VAR in os.environ:
        return f"${MARKER_VAR} is set"
    pid = os.getppid()
    for _ in range(_MAX_ANCESTORS):
        if pid <= 1:
            break
        if _started_with_marker(pid):
            return f"ancestor process {pid} runs in a sandbox"
        pid = _parent_of(pid)
    return None


def refuse_inside_sandbox(command: str) -> None:
    """UserError if this process looks to be inside a crewchief sandbox: the human gate's
    commands act for a person, never for a worker."""
    sign = sandbox_sign()
    if sign is not None:
        raise UserError(
            f"`crewchief {command}` refuses to run inside a crewchief sandbox ({sign}): "
            "the human gate is a person's, not a worker's"
        )


def _started_with_marker(pid: int) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return any(item.startswith(f"{MARKER_VAR}=".encode()) for item in environ.split(b"\0"))


def _parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # The command name (field 2) is in parentheses and may hold spaces: read after its end.
    return int(stat.rpartition(")")[2].split()[1])
