"""A sandboxed child's I/O and its end.

While it runs: stdin fed and stdout/stderr drained without ever blocking on a full pipe, each
stream kept only as its first and last bytes (:class:`Captured`). After: its process group killed,
and every process still carrying the sandbox's marker in its environment (those that left the
group, e.g. with setsid) found through /proc and killed too.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

#: The environment variable that tags every process started in one sandbox.
MARKER_VAR = "CREWCHIEF_SANDBOX"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Captured:
    """A stream's first and last bytes; ``dropped`` bytes in between were discarded."""

    head: bytes
    tail: bytes
    dropped: int

    @property
    def truncated(self) -> bool:
        return self.dropped > 0

    def data(self) -> bytes:
        if not self.dropped:
            return self.head + self.tail
        return self.head + b"\n[... %d bytes dropped ...]\n" % self.dropped + self.tail

    def text(self) -> str:
        return self.data().decode("utf-8", "replace")


class _Buffer:
    def __init__(self, limit: int) -> None:
        self.half = max(limit // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > 2 * self.half:
            cut = len(self.tail) - self.half
            self.dropped += cut
            del self.tail[:cut]

    def captured(self) -> Captured:
        extra = max(len(self.tail) - self.half, 0)
        return Captured(bytes(self.head), bytes(self.tail[extra:]), self.dropped + extra)


def pump(
    proc: subprocess.Popen[bytes],
    data: bytes | None,
    deadline: float,
    limit: int,
    grace: float,
    watch: Callable[[bytes], bool] | None = None,
) -> tuple[Captured, Captured, bool]:
    """Feed stdin, drain stdout/stderr into bounded buffers until both close, the deadline
    passes (→ timed out), ``watch`` returns True for a chunk read (→ stopped, not timed out) or
    ``grace`` seconds after the process exits (its children may hold the pipes open). Never
    blocks on a full pipe in either direction."""
    assert proc.stdout is not None
    streams = [s for s in (proc.stdout, proc.stderr) if s is not None]
    bufs = {s.fileno(): _Buffer(limit) for s in streams}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pending = memoryview(data or b"")
    if proc.stdin is not None:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE)
    timed_out, exited_at = False, None
    while sel.get_map():
        now = time.monotonic()
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if now >= deadline or (exited_at is not None and now - exited_at > grace):
            timed_out = exited_at is None
            break
        stop = False
        for key, _ in sel.select(min(deadline - now, 0.1)):
            fd = int(key.fd)
            if fd in bufs:
                chunk = _read_into(sel, fd, bufs[fd])
                stop = stop or bool(chunk and watch is not None and watch(chunk))
            else:
                pending = _write_from(sel, proc, pending)
        if stop:
            break
    sel.close()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    captured = [b.captured() for b in bufs.values()]
    return captured[0], captured[1] if len(captured) > 1 else Captured(b"", b"", 0), timed_out


def _read_into(sel: selectors.BaseSelector, fd: int, buf: _Buffer) -> bytes:
    try:
        chunk = os.read(fd, _CHUNK)
    except BlockingIOError:
        return b""
    if chunk:
        buf.add(chunk)
    else:
        sel.unregister(fd)
    return chunk


def _write_from(
    sel: selectors.BaseSelector, proc: subprocess.Popen[bytes], pending: memoryview
) -> memoryview:
    assert proc.stdin is not None
    try:
        pending = pending[os.write(proc.stdin.fileno(), pending[:_CHUNK]) :]
    except BlockingIOError:
        return pending
    except BrokenPipeError:
        pending = pending[:0]
    if not pending:
        sel.unregister(proc.stdin.fileno())
        proc.stdin.close()
    return pending


# --- ending a process --------------------------------------------------------------------------


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


#: How long ending a sandbox's processes may take before it is called a failure: the kernel
#: tears a PID namespace down asynchronously after its init dies.
_GONE_DEADLINE_S = 10.0


def kill_marked(marker: str) -> int:
    """SIGKILL every process whose environment carries ``marker`` (they left the process
    group, e.g. with setsid) and wait until none is left; returns how many were killed. Linux
    only (reads /proc)."""
    return _kill_where(lambda value: value == marker)


def kill_owned(owner: str) -> int:
    """SIGKILL every process of a sandbox started for ``owner`` (a run id: its attempts' ids and
    its own marker start with it) and wait until none is left: the survivors of a killed run."""
    return _kill_where(lambda value: value == owner or value.startswith((owner + ".", owner + "/")))


def _kill_where(wanted: Callable[[str], bool]) -> int:
    if not os.path.isdir("/proc"):
        return 0
    killed: set[int] = set()
    deadline = time.monotonic() + _GONE_DEADLINE_S
    while True:
        found = [pid for pid in _pids() if _marked(pid, wanted)]
        if not found or time.monotonic() > deadline:
            return len(killed)
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        time.sleep(0.02)


def _marked(pid: int, wanted: Callable[[str], bool]) -> bool:
    prefix = MARKER_VAR.encode() + b"="
    for entry in _environ(pid).split(b"\0"):
        if entry.startswith(prefix):
            return wanted(entry[len(prefix) :].decode(errors="replace"))
    return False


def _pids() -> list[int]:
    me = os.getpid()
    return [int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) != me]


def _environ(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def live_marked(marker: str) -> list[int]:
    """Processes still carrying ``marker`` (for tests and the doctor)."""
    return [pid for pid in _pids() if _marked(pid, lambda value: value == marker)]
