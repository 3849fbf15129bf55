"""Subprocesses in their own process groups, with timeouts and bounded output.

``run`` starts a process in a new session (so a timeout, or Ctrl-C in the driver, kills it and
every child it forked) and keeps only the tail of its output; ``run_function`` does the same for a
worker process forked warm, which dies with crewchief (``die_with_parent``). A worker's own code
(its command, its checks, the suite) never runs through here directly but in the sandbox
(:func:`crewchief.sandbox.runner.run_shell`), which tracks its groups here for ``kill_all``.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.context
import multiprocessing.process
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Output kept per process (the tail): enough to see a traceback, bounded against floods.
MAX_OUTPUT_BYTES = 64 * 1024
_KILL_GRACE_S = 2.0

_live: set[int] = set()
_live_lock = threading.Lock()


@dataclass(frozen=True)
class ProcResult:
    returncode: int | None
    output: str
    timed_out: bool
    duration_s: float
    truncated: bool = False
    #: Git metadata the process changed (restored since): never ok.
    tampered: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.tampered


def run(
    cmd: list[str] | str,
    cwd: Path,
    *,
    timeout_s: float,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    max_output: int = MAX_OUTPUT_BYTES,
) -> ProcResult:
    """Run ``cmd`` (a shell string or an argv) in its own session; kill its group on timeout."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            shell=isinstance(cmd, str),
            env=env,
            start_new_session=True,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        timed_out = _supervise(
            proc.pid, lambda: _finished(proc, input, timeout_s), lambda: _kill_group(proc)
        )
        text, truncated = _tail(out, max_output)
    return ProcResult(
        None if timed_out else proc.returncode, text, timed_out, time.monotonic() - start, truncated
    )


def _supervise(pid: int, wait: Callable[[], bool], stop: Callable[[], None]) -> bool:
    """Wait for the child leading group ``pid`` (``wait`` says whether it finished in time);
    stop it on timeout or on any exception, Ctrl-C included; always reap what is left of its
    group. True if it timed out."""
    track(pid, True)
    try:
        timed_out = not wait()
        if timed_out:
            stop()
        return timed_out
    except BaseException:
        stop()
        raise
    finally:
        _reap_group(pid)
        track(pid, False)


def _finished(proc: subprocess.Popen[bytes], data: bytes | None, timeout_s: float) -> bool:
    if data is not None:
        _feed(proc, data)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False
    return True


def _joined(proc: multiprocessing.process.BaseProcess, timeout_s: float) -> bool:
    proc.join(timeout_s)
    return not proc.is_alive()


def track(pid: int, live: bool) -> None:
    """Add the process group led by ``pid`` to (or remove it from) the groups ``kill_all``
    stops: for groups started outside ``run`` (the sandbox starts its own)."""
    with _live_lock:
        if live:
            _live.add(pid)
        else:
            _live.discard(pid)


_warm: multiprocessing.context.ForkServerContext | None = None
_warm_lock = threading.Lock()


def warm_context(preload: Sequence[str] = ()) -> multiprocessing.context.ForkServerContext:
    """The process-wide fork server, started on first use with ``preload`` imported: a child
    forked from it starts in milliseconds with those modules already loaded (the first caller's
    ``preload`` is the one that counts)."""
    global _warm
    with _warm_lock:
        if _warm is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["crewchief.attempts.procs", *preload])
            _warm = ctx
        return _warm


def run_function(
    target: Callable[..., object],
    args: tuple[object, ...],
    cwd: Path,
    *,
    timeout_s: float,
    max_output: int = MAX_OUTPUT_BYTES,
) -> ProcResult:
    """``target(*args)`` in a warm child process (see ``warm_context``) in its own session, like
    ``run``: killed with its whole group on timeout, output (fds 1 and 2) kept as a tail."""
    start = time.monotonic()
    with tempfile.NamedTemporaryFile() as out:
        child_args = (target, args, str(cwd), out.name, os.getpid())
        proc = warm_context().Process(target=_child, args=child_args)
        proc.start()
        assert proc.pid is not None
        timed_out = _supervise(
            proc.pid, lambda: _joined(proc, timeout_s), lambda: _stop_child(proc)
        )
        text, truncated = _tail(out, max_output)
    code = None if timed_out else proc.exitcode
    return ProcResult(code, text, timed_out, time.monotonic() - start, truncated)


def _child(
    target: Callable[..., object], args: tuple[object, ...], cwd: str, out: str, driver: int
) -> None:
    os.setsid()
    die_with_parent(driver)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(cwd)
    target(*args)


_PR_SET_PDEATHSIG = 1


def die_with_parent(driver: int) -> None:
    """Have the kernel SIGKILL this process when its parent dies (the fork server, which exits
    when crewchief does): a SIGKILL of crewchief then leaves no worker process running. Exits at
    once if ``driver`` (the crewchief process that asked for it) is already gone."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    try:
        os.kill(driver, 0)
    except ProcessLookupError:
        os._exit(137)


def _stop_child(proc: multiprocessing.process.BaseProcess) -> None:
    assert proc.pid is not None
    _signal_group(proc.pid, signal.SIGTERM)
    proc.join(_KILL_GRACE_S)
    _signal_group(proc.pid, signal.SIGKILL)
    if proc.is_alive():  # not yet its own group leader: kill it directly
        proc.kill()
    proc.join()


def kill_all() -> None:
    """Stop every process group started through ``run`` that is still alive (Ctrl-C path):
    SIGTERM first, so a worker process can stop the groups it started in turn, then SIGKILL."""
    with _live_lock:
        pids = list(_live)
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + _KILL_GRACE_S
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        _signal_group(pid, signal.SIGKILL)


def stop_children_on_sigterm() -> None:
    """In a process that runs others through ``run`` (a worker process): on SIGTERM, take every
    group it started down with it. Those groups are sessions of their own, so a kill of this
    process's group alone would leave them running."""

    def _handler(signum: int, frame: object) -> None:
        kill_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, _handler)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except BrokenPipeError:
        pass


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_KILL_GRACE_S)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _reap_group(pid: int) -> None:
    """Children that outlived their leader (daemonized helpers of a check) die with the group."""
    _signal_group(pid, signal.SIGKILL)


def _tail(f: IO[bytes], limit: int) -> tuple[str, bool]:
    size = f.seek(0, os.SEEK_END)
    truncated = size > limit
    f.seek(max(0, size - limit))
    data = f.read()
    text = data.decode("utf-8", errors="replace")
    if truncated:
        text = f"[... {size - limit} bytes cut ...]\n" + text
    return text, truncated
