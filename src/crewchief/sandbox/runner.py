"""Running a worker process with as little reach as this machine allows.

Always: a scrubbed environment (an allowlist plus the variables a caller passes on purpose), a
temporary HOME and TMPDIR, cwd = the worktree, its own session (so a timeout kills the whole
process group), resource limits set before exec (RLIMIT_NPROC/AS/FSIZE/CORE), stdout and stderr
captured but bounded, processes left behind killed (found by a marker in their environment), and
the repository's git metadata checked and restored afterwards (:mod:`crewchief.sandbox.gitguard`).
Feeding and draining the process and killing what it leaves behind:
:mod:`crewchief.attempts.procio`.

On Linux with bubblewrap (``bwrap``): the whole filesystem read-only, the worktree writable, the
worktree's own git admin directory writable (its index and HEAD) but its ``commondir``/``gitdir``
links and the worktree's ``.git`` file pinned read-only, ``.git`` of the repository read-only (new
objects go to a private object directory with the repository's as an alternate, so ``git add`` and
``git commit`` work inside), a private /tmp and /run, HOME hidden, a new PID namespace (nothing
survives the worker), all capabilities dropped, and a private network namespace whose only way
out is the allowlisting forwarder of :mod:`crewchief.sandbox.egress` (exactly the configured model
endpoints; nothing when none is configured). ``network = true`` is the explicit opt-out: the
host's network, with no allowlist, logged as a warning every time. A read-only marker file tells
crewchief's own commands that they run inside a sandbox (:mod:`crewchief.sandbox.confinement`).

Without bubblewrap the network cannot be isolated: a worker reaches anything this machine can.
RLIMIT_NPROC counts every process of the user and does not bind root at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from pydantic import Field, field_validator

from crewchief.attempts import procs
from crewchief.attempts.procio import MARKER_VAR, Captured, kill_group, kill_marked, pump
from crewchief.records import Record
from crewchief.sandbox.confinement import marker_args
from crewchief.sandbox.egress import Egress
from crewchief.sandbox.gitguard import GitGuard, GitLayout, git_layout
from crewchief.sandbox.probe import PROBE_TRIES as PROBE_TRIES
from crewchief.sandbox.probe import SandboxUnavailable as SandboxUnavailable
from crewchief.sandbox.probe import bwrap_path as bwrap_path
from crewchief.sandbox.probe import probe_bwrap as probe_bwrap

#: crewchief's state directory in a repository (ledger, tokens, logs, worktrees).
STATE_DIR = ".crewchief"
GiB = 1024**3
MiB = 1024**2

#: Variables a worker keeps from the parent's environment; everything else is dropped.
ENV_ALLOWLIST = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "COLORTERM",
    "NO_COLOR",
    "USER",
    "LOGNAME",
)
_EXIT_GRACE_S = 0.3


class SandboxConfig(Record):
    """How much a worker may reach. Plain data: loadable from crewchief.toml."""

    mode: Literal["auto", "bwrap", "off"] = Field(
        default="auto",
        description="auto or bwrap: bubblewrap, refusing to run without it; off: a trusted "
        "escape hatch (scrubbed env and limits only), said loudly in the run's log.",
    )
    bwrap: str = Field(default="bwrap", description="The bubblewrap program (a name or a path).")
    network: bool = Field(
        default=False,
        description="Opt out of network isolation: the host's whole network, no allowlist.",
    )
    model_endpoint: str | None = Field(
        default=None,
        description="The model URL the worker talks to: the one address it can reach.",
    )
    pass_env: tuple[str, ...] = Field(
        default=(), description="Variables of crewchief's environment passed in by name."
    )
    hide_home: bool = Field(default=True, description="Hide the real HOME (bwrap only).")
    read_only_paths: tuple[str, ...] = Field(
        default=(), description="Host paths to expose read-only despite hide_home."
    )
    max_processes: int | None = Field(default=512, description="RLIMIT_NPROC headroom.")
    max_memory_bytes: int | None = Field(
        default=None,
        description="RLIMIT_AS. Off by default: JS runtimes reserve far more address space "
        "than they use and die under a tight limit.",
    )
    max_file_bytes: int | None = Field(default=GiB, description="RLIMIT_FSIZE.")
    max_output_bytes: int = Field(default=MiB, gt=0, description="Kept of stdout and of stderr.")

    @field_validator("mode", mode="before")
    @classmethod
    def _none_means_off(cls, value: object) -> object:
        return "off" if value == "none" else value

    @property
    def network_on(self) -> bool:
        """The host's network with no allowlist (the opt-out)."""
        return self.network

    def endpoints(self) -> tuple[str, ...]:
        return (self.model_endpoint,) if self.model_endpoint else ()


class SandboxReport(Record):
    """Which protections are active for a config on this machine, and what is not enforced."""

    platform: str
    running_as_root: bool
    bwrap: str | None
    filesystem_read_only: bool
    git_metadata_read_only: bool
    network_isolated: bool
    pid_namespace: bool
    env_scrubbed: bool = True
    rlimits: tuple[str, ...]
    nproc_enforced: bool
    output_capped_bytes: int
    not_enforced: tuple[str, ...]
    network: str = Field(default="", description="What the worker can reach, in words.")


def report(config: SandboxConfig, endpoints: Sequence[str] | None = None) -> SandboxReport:
    """What running a worker under ``config`` protects on this machine (probes bwrap);
    ``endpoints``: its allowed model endpoints (default: the config's)."""
    bwrap = None if config.mode == "off" else bwrap_path(config.bwrap)
    allowed = config.endpoints() if endpoints is None else tuple(endpoints)
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    limits = _limits(config)
    missing = []
    if bwrap is None and config.mode != "off":
        missing.append("sandboxed work is refused: bubblewrap is missing or unusable")
    if bwrap is None:
        missing.append("filesystem: the worker can write anything this user can")
        missing.append("network: not isolated")
    elif config.network_on:
        missing.append("network: ON (network = true): every host and loopback service")
    if root or config.max_processes is None:
        missing.append("process count: RLIMIT_NPROC does not bind root")
    if config.max_memory_bytes is None:
        missing.append("memory: no RLIMIT_AS")
    return SandboxReport(
        platform=sys.platform,
        running_as_root=root,
        bwrap=bwrap,
        filesystem_read_only=bwrap is not None,
        git_metadata_read_only=bwrap is not None,
        network_isolated=bwrap is not None and not config.network_on,
        pid_namespace=bwrap is not None,
        rlimits=tuple(sorted(limits)),
        nproc_enforced="NPROC" in limits and not root,
        output_capped_bytes=config.max_output_bytes,
        not_enforced=tuple(missing),
        network=_network_words(bwrap is not None, config.network_on, allowed),
    )


def _network_words(isolated: bool, opted_out: bool, endpoints: Sequence[str]) -> str:
    if not isolated:
        return "not isolated (no bubblewrap): everything this machine reaches"
    if opted_out:
        return "ON, no allowlist (network = true): every host and loopback service"
    return "only " + ", ".join(endpoints) if endpoints else "off"


def _choose_bwrap(config: SandboxConfig) -> str | None:
    """None for the escape hatch; otherwise bubblewrap or SandboxUnavailable: "auto" never
    falls back to running unsandboxed."""
    if config.mode == "off":
        return None
    return probe_bwrap(config.bwrap)


def _limits(config: SandboxConfig) -> dict[str, int]:
    limits = {"CORE": 0}
    if config.max_processes is not None and sys.platform.startswith("linux"):
        limits["NPROC"] = _user_process_count() + config.max_processes
    if config.max_memory_bytes is not None:
        limits["AS"] = config.max_memory_bytes
    if config.max_file_bytes is not None:
        limits["FSIZE"] = config.max_file_bytes
    return limits


def _user_process_count() -> int:
    """Processes of this user now: RLIMIT_NPROC counts them all, so the limit is headroom."""
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                continue
    return count


#: Asks the kernel to SIGKILL it when the thread that started it dies (PR_SET_PDEATHSIG, kept
#: across exec: a SIGKILL of crewchief takes bwrap, and so its PID namespace, down with it; with
#: the sandbox off, at least the command itself), exits if that parent is already gone, sets the
#: limits given as NAME=VALUE, then execs the command after "--". Runs before bwrap so that every
#: process in the sandbox inherits the limits. (No preexec_fn: it is unsafe with threads.)
_LAUNCHER = """
import ctypes, os, resource, signal, sys
i = sys.argv.index("--")
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
if os.getppid() != int(sys.argv[1]):
    sys.exit(137)
for item in sys.argv[2:i]:
    name, value = item.split("=")
    kind = getattr(resource, "RLIMIT_" + name)
    hard = resource.getrlimit(kind)[1]
    value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
    resource.setrlimit(kind, (value, value))
try:
    os.execvp(sys.argv[i + 1], sys.argv[i + 1:])
except OSError as e:
    sys.stderr.write(f"crewchief sandbox: cannot run {sys.argv[i + 1]!r}: {e}\\n")
    sys.exit(127)
"""


#: The first process inside bubblewrap: runs the command as its child and, should the read end
#: of crewchief's lifeline pipe (argv[1]) ever report end-of-file while the command runs — the
#: crewchief process that started the sandbox is gone, even by SIGKILL — kills every process of
#: the sandbox's PID namespace. bwrap's own --die-with-parent cannot be relied on for that: its
#: inner process sets its parent-death signal only after it forked, so a sandbox killed right
#: after it started outlived crewchief (containers/bubblewrap#633).
_LIFELINE = """
import os, select, signal, sys
lifeline = int(sys.argv[1])
command = sys.argv[sys.argv.index("--") + 1:]
child = os.fork()
if child == 0:
    os.close(lifeline)
    try:
        os.execvp(command[0], command)
    except OSError as e:
        sys.stderr.write(f"crewchief sandbox: cannot run {command[0]!r}: {e}\\n")
    os._exit(127)
done = os.pidfd_open(child)
ready, _, _ = select.select([lifeline, done], [], [])
if done in ready:
    code = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    os._exit(128 - code if code < 0 else code)  # killed by signal N: 128+N, as a shell says
os.kill(-1, signal.SIGKILL)  # all of this PID namespace but its init and this process
os._exit(137)
"""


@dataclass(frozen=True)
class SandboxRun:
    """One finished process: exit status (None if killed), bounded output, what happened."""

    returncode: int | None
    stdout: Captured
    stderr: Captured
    timed_out: bool
    duration_s: float
    leftovers_killed: int


class WorkerSandbox:
    """A context for running one worker in ``worktree``; undoes its reach on exit.

    ``env`` holds variables passed on purpose (a model key): they reach the worker, never a log.
    Files written with :meth:`write_file` land in a scratch directory the worker can read.
    ``owner`` (a run or attempt id) starts the marker every process of the sandbox carries in its
    environment, so that ``crewchief resume`` can find and end survivors of a killed run
    (:func:`crewchief.attempts.procio.kill_owned`). SandboxUnavailable when bubblewrap is needed and
    unusable: then nothing runs.
    """

    def __init__(
        self,
        worktree: Path,
        config: SandboxConfig,
        env: Mapping[str, str] | None = None,
        endpoints: Sequence[str] | None = None,
        owner: str = "",
    ) -> None:
        self.worktree = worktree.resolve()
        self.config = config
        self.extra_env = dict(env or {})
        self.bwrap = _choose_bwrap(config)
        self.scratch = Path(tempfile.mkdtemp(prefix="crewchief-sandbox-")).resolve()
        self.home = self.scratch / "home"
        for sub in ("home", "tmp", "objects"):
            (self.scratch / sub).mkdir()
        self.marker = f"{owner}/{self.scratch.name}" if owner else self.scratch.name
        self.layout = git_layout(self.worktree)
        # Under bubblewrap the repository's refs are read-only to the worker (see _git_bwrap_args).
        self.guard = GitGuard(self.layout, watch_refs=self.bwrap is None)
        self.tampered: tuple[str, ...] = ()
        # --- network seam (crewchief.sandbox.egress): the allowed endpoints, nothing else ---
        urls = config.endpoints() if endpoints is None else endpoints
        self.net = Egress(urls, self.scratch / "net", open_network=config.network_on)
        # --- end of network seam ---

    def __enter__(self) -> WorkerSandbox:
        try:
            self.net.start(isolated=self.bwrap is not None)  # network seam: probe, listen
        except BaseException:
            self.net.close()
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise
        self.guard.snapshot()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Kill what is left, restore git metadata, remove the scratch directory."""
        kill_marked(self.marker)
        self.net.close()  # network seam
        self.tampered = self.guard.restore()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def write_file(self, name: str, data: bytes) -> Path:
        path = self.scratch / name
        path.write_bytes(data)
        return path

    def env(self) -> dict[str, str]:
        """The worker's whole environment."""
        keep = (*ENV_ALLOWLIST, *self.config.pass_env)
        env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("LC_")}
        home = str(self.home)
        env.update(
            HOME=home,
            TMPDIR=str(self.scratch / "tmp"),
            XDG_CONFIG_HOME=f"{home}/.config",
            XDG_CACHE_HOME=f"{home}/.cache",
            XDG_DATA_HOME=f"{home}/.local/share",
            GIT_TERMINAL_PROMPT="0",
            GIT_AUTHOR_NAME="crewchief worker",
            GIT_AUTHOR_EMAIL="worker@crewchief.invalid",
            GIT_COMMITTER_NAME="crewchief worker",
            GIT_COMMITTER_EMAIL="worker@crewchief.invalid",
        )
        env.setdefault("PATH", os.defpath)
        if self.bwrap is not None and self.layout.common_dir is not None:
            env["GIT_OBJECT_DIRECTORY"] = str(self.scratch / "objects")
            env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = str(self.layout.common_dir / "objects")
        env.update(self.extra_env)
        if self.bwrap is not None:
            env.update(self.net.env())  # network seam: the in-sandbox proxy
        env[MARKER_VAR] = self.marker
        return env

    def argv(self, command: Sequence[str], lifeline: int) -> list[str]:
        """``command`` wrapped in the rlimit launcher and, when available, bubblewrap, where
        it runs under the lifeline watcher reading fd ``lifeline``."""
        limits = [f"{k}={v}" for k, v in sorted(_limits(self.config).items())]
        launcher = [sys.executable, "-I", "-c", _LAUNCHER, str(os.getpid()), *limits, "--"]
        if self.bwrap is None:
            return [*launcher, *command]
        inner = self.net.wrap(command)  # network seam: the forwarder, when anything is routed
        watched = [sys.executable, "-I", "-c", _LIFELINE, str(lifeline), "--", *inner]
        return [*launcher, *self._bwrap_args(command), "--", *watched]

    def run(
        self,
        command: Sequence[str],
        *,
        timeout_s: float,
        stdin: bytes | None = None,
        merge_output: bool = False,
        watch: Callable[[bytes], bool] | None = None,
    ) -> SandboxRun:
        """Run ``command`` in the worktree; kill it and everything it started at ``timeout_s``,
        or as soon as ``watch`` (shown each chunk of output) returns True (when this returns,
        none of its processes is left to edit anything). ``merge_output``: stderr goes to
        stdout (one interleaved stream, as a terminal shows it)."""
        start = time.monotonic()
        # The lifeline: its write end lives only in this process (never inherited), so the
        # sandbox's watcher reads end-of-file exactly when this process is gone.
        lifeline, keep = os.pipe()
        try:
            proc = subprocess.Popen(
                self.argv(command, lifeline),
                cwd=self.worktree,
                env=self.env(),
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
                start_new_session=True,
                pass_fds=(lifeline,) if self.bwrap is not None else (),
            )
        except BaseException:
            os.close(keep)
            raise
        finally:
            os.close(lifeline)
        procs.track(proc.pid, True)
        try:
            out, err, timed_out = pump(
                proc, stdin, start + timeout_s, self.config.max_output_bytes, _EXIT_GRACE_S, watch
            )
        finally:
            kill_group(proc)
            procs.track(proc.pid, False)
            os.close(keep)
        killed = kill_marked(self.marker)
        returncode = None if timed_out else proc.returncode
        return SandboxRun(returncode, out, err, timed_out, time.monotonic() - start, killed)

    def _bwrap_args(self, command: Sequence[str]) -> list[str]:
        assert self.bwrap is not None
        program = command[0]
        args = [self.bwrap, "--die-with-parent", "--new-session", "--unshare-pid"]
        args += ["--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL"]
        args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--tmpfs", "/tmp", "--tmpfs", "/run"]
        args += _resolv_conf_args() + _needed_under_private_dirs(command)
        args += _needed_under_private_dirs([sys.executable])  # the lifeline watcher's Python
        if self.config.hide_home:
            args += _hide_home_args([program, sys.executable])
        for path in self.config.read_only_paths:
            args += ["--ro-bind-try", path, path]
        root = self.layout.repo_root
        args += ["--ro-bind", str(root), str(root)]
        # crewchief's own state (ledger, tokens, logs, the other worktrees): not even readable.
        args += ["--tmpfs", str(root / STATE_DIR)] if (root / STATE_DIR).is_dir() else []
        args += ["--bind", str(self.scratch), str(self.scratch)]
        args += ["--bind", str(self.worktree), str(self.worktree)]
        args += self.net.bwrap_args() + marker_args(self.scratch)  # network seam
        args += _git_bwrap_args(self.layout)
        args += ["--chdir", str(self.worktree)]
        return args


def run_shell(
    command: str,
    worktree: Path,
    config: SandboxConfig,
    *,
    timeout_s: float,
    owner: str = "",
    max_output: int = procs.MAX_OUTPUT_BYTES,
) -> procs.ProcResult:
    """The shell ``command`` in a sandbox over ``worktree`` (stdout and stderr merged, its tail
    kept): how recipe commands, fast checks, the LLM worker's checks and the full suite run.
    Git metadata it changed is restored and named in ``tampered`` (the result is then not ok).
    SandboxUnavailable when bubblewrap is needed and unusable: then nothing ran."""
    bounded = config.model_copy(update={"max_output_bytes": max_output})
    with WorkerSandbox(worktree, bounded, owner=owner) as box:
        run = box.run(["/bin/sh", "-c", command], timeout_s=timeout_s, merge_output=True)
    output = run.stdout.text()
    if box.tampered:
        output += "\n[crewchief: restored git metadata it changed: " + "; ".join(box.tampered) + "]"
    code = None if run.timed_out else run.returncode
    return procs.ProcResult(
        code, output, run.timed_out, run.duration_s, run.stdout.truncated, box.tampered
    )


def _resolv_conf_args() -> list[str]:
    """/etc/resolv.conf often links into /run, which the sandbox replaces: bind its target."""
    real = os.path.realpath("/etc/resolv.conf")
    return ["--ro-bind-try", real, real] if real.startswith("/run/") else []


_PRIVATE_DIRS = ("/tmp", "/run")


def _needed_under_private_dirs(command: Sequence[str]) -> list[str]:
    """What the command needs from under /tmp or /run (which the sandbox replaces with empty
    ones), back read-only: the program's install prefix (a virtualenv in /tmp) and the
    directories of absolute paths among its arguments (a script)."""
    wanted: list[str] = []
    found = shutil.which(command[0])
    if found is not None:
        for path in (os.path.abspath(found), os.path.realpath(found)):
            wanted.append(os.path.dirname(os.path.dirname(path)))
    wanted += [os.path.dirname(a) for a in command[1:] if os.path.isabs(a) and os.path.exists(a)]
    args: list[str] = []
    for path in dict.fromkeys(wanted):
        if any(path.startswith(d + os.sep) for d in _PRIVATE_DIRS):
            args += ["--ro-bind-try", path, path]
    return args


def _hide_home_args(programs: Sequence[str]) -> list[str]:
    """An empty tmpfs over the real HOME, then back, read-only, the install prefixes of the
    PATH entries and of ``programs`` that live under it (so CLIs installed in ~/.local, ~/.cargo
    or ~/.nvm still run) — but not the rest of HOME (keys, tokens, shell history)."""
    home = os.path.realpath(os.path.expanduser("~"))
    if home in ("/", ""):
        return []
    bins = [e for e in os.environ.get("PATH", "").split(os.pathsep) if e]
    for found in filter(None, map(shutil.which, programs)):
        bins += [os.path.dirname(found), os.path.dirname(os.path.realpath(found))]
    args = ["--tmpfs", home]
    for entry in dict.fromkeys(os.path.realpath(b) for b in bins):
        prefix = os.path.dirname(entry)
        if prefix.startswith(home + os.sep):  # never the whole of HOME (e.g. for ~/bin)
            args += ["--ro-bind-try", prefix, prefix]
    return args


def _git_bwrap_args(layout: GitLayout) -> list[str]:
    """Pin the worktree's ``.git`` file; let git write the worktree's own index and HEAD, but
    not the links that say where the repository is."""
    args: list[str] = []
    if layout.common_dir is not None and not layout.common_dir.is_relative_to(layout.repo_root):
        args += ["--ro-bind", str(layout.common_dir), str(layout.common_dir)]
    if layout.dot_git.is_file():
        args += ["--ro-bind", str(layout.dot_git), str(layout.dot_git)]
    if layout.admin_dir is not None:
        admin = str(layout.admin_dir)
        args += ["--bind", admin, admin]
        for name in ("commondir", "gitdir", "info"):
            args += ["--ro-bind-try", f"{admin}/{name}", f"{admin}/{name}"]
    return args
