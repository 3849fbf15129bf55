"""Whether the full suite can be trusted to judge this checkout, proven before it gates anything.

Two checks, run beside the workers before a run's first integration:

- the **base check**: the suite on the run's base commit. Red (or flaky) there stops the run with
  the failing output before any patch is blamed.
- the **sensitivity probe**: the suite on a copy of the base in which the code under test is
  deliberately broken (each source file the plan touches made to fail on import or to compile).
  A suite that still passes does not test this checkout (typically the tests import an installed
  copy of the package, not the source), and crewchief refuses to gate on it.

Both results are recorded in the ledger. A probe that proved the suite sensitive is cached by
(base tree, test command) and not run again; a refusal is never cached, so fixing the
environment and running again is enough.
"""

from __future__ import annotations

import fnmatch
import shlex
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from crewchief import git
from crewchief.attempts import procs
from crewchief.attempts.workspace import WorkspacePool
from crewchief.ledger.store import Ledger
from crewchief.merge.suite import run_suite
from crewchief.records import CheckResult
from crewchief.sandbox.runner import SandboxConfig

#: Source files the probe breaks at most (enough to catch a suite that tests any of them).
MAX_PROBE_FILES = 20
_SOURCE_EXT = frozenset({".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs"})
_TEST_PARTS = frozenset({"test", "tests", "testing", "spec", "__tests__"})
_MARK = "crewchief sensitivity probe: this file is deliberately broken"
_SPEC_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Trust:
    """The verdict on a suite: ``problem`` is None when it may gate the run."""

    base: CheckResult | None
    probe: CheckResult | None
    broken: tuple[str, ...]
    problem: str | None
    probe_cached: bool = False


def probe_targets(repo: Path, commit: str, owned: Sequence[str]) -> list[str]:
    """The source files to break: those of ``commit`` the plan owns, else the packages' entry
    files (``__init__.py``, ``index.js``, ``lib.rs``…), else any source files; tests never."""
    tracked = git.out(["ls-tree", "-r", "--name-only", "-z", commit], repo).split("\0")
    sources = sorted(p for p in tracked if _is_source(p))
    chosen = [p for p in sources if any(_owned_by(o, p) for o in owned)]
    if not chosen:
        entries = {"__init__.py", "index.js", "index.ts", "lib.rs", "main.rs"}
        chosen = [p for p in sources if PurePosixPath(p).name in entries]
    return (chosen or sources)[:MAX_PROBE_FILES]


def _is_source(path: str) -> bool:
    p = PurePosixPath(path)
    if p.suffix not in _SOURCE_EXT or any(part in _TEST_PARTS for part in p.parts[:-1]):
        return False
    name = p.name
    return not (name.startswith("test_") or name.endswith(("_test.py", "_test.go", "conftest.py")))


def _owned_by(pattern: str, path: str) -> bool:
    if pattern.endswith("/"):
        return path.startswith(pattern)
    return path == pattern or fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern + "/")


def break_file(path: Path) -> None:
    """Make ``path`` fail the moment it is imported or compiled, keeping its content after."""
    text = path.read_text(errors="surrogateescape")
    if path.suffix == ".py":
        path.write_text(f"raise ImportError({_MARK!r})\n{text}", errors="surrogateescape")
    elif path.suffix in {".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx"}:
        path.write_text(f"throw new Error({_MARK!r});\n{text}", errors="surrogateescape")
    else:  # compiled languages: a syntax error fails the build of the package
        path.write_text(f"{text}\n!!! {_MARK} !!!\n", errors="surrogateescape")


class SuiteTrust:
    """Runs the base check and the probe in a background thread; ``verdict`` waits for them
    and records them (the ledger is written only from the caller's thread)."""

    def __init__(
        self,
        repo: Path,
        ledger: Ledger,
        command: str,
        timeout_s: float,
        box: SandboxConfig,
        probe: bool = True,
    ) -> None:
        self.repo, self.ledger, self.command, self.timeout_s = repo, ledger, command, timeout_s
        self.box = box  # the base and the probe run in the same sandbox as the suite itself
        self.probe = probe  # False: the configuration opted out of the sensitivity probe
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="suite-trust")
        self._future: Future[Trust] | None = None
        self._stop = threading.Event()
        self._tree = self._base = ""

    def start(self, pool: WorkspacePool, base: str, owned: Sequence[str]) -> None:
        """Begin checking ``base`` (the probe skipped when cached); returns at once."""
        self._base = base
        self._tree = git.out(["rev-parse", f"{base}^{{tree}}"], self.repo)
        cached = self.ledger.suite_trust(self._tree, self.command)
        targets = [] if cached is not None else probe_targets(self.repo, base, owned)
        self._future = self._pool.submit(self._check, pool, base, targets, cached)

    def done(self) -> bool:
        """Whether the checks have finished (``verdict`` then returns at once)."""
        return self._future is not None and self._future.done()

    @property
    def future(self) -> Future[Trust]:
        """The checks under way: a driver waiting on its workers waits on this too."""
        assert self._future is not None, "start() first"
        return self._future

    def verdict(self, run_id: str | None) -> Trust:
        """The finished checks, recorded (in ``run_id`` too, when given)."""
        assert self._future is not None, "start() first"
        trust = self._future.result()
        self._pool.shutdown()
        if trust.probe is not None and not trust.probe_cached:
            self.ledger.record_suite_trust(self._tree, trust.probe, list(trust.broken))
        if run_id is not None:
            self._record_in_run(run_id, trust)
        return trust

    def close(self) -> None:
        """Stop checks still under way (their processes killed) without recording them; the
        driver calls this when it ends without needing them (nothing to integrate, Ctrl-C)."""
        self._stop.set()
        if self._future is not None and not self._future.done():
            procs.kill_all()  # only this driver's own children; its workers have finished
        self._pool.shutdown(wait=True)

    def _suite(self, path: Path) -> CheckResult:
        if self._stop.is_set():
            raise _Stopped
        return run_suite(self.command, path, self.timeout_s, self.box)

    def _record_in_run(self, run_id: str, trust: Trust) -> None:
        for check in (trust.base, trust.probe):
            if check is not None:
                self.ledger.record_check(run_id, check, commit=self._base)
        if trust.base is not None and trust.base.passed:  # bisection needs no second base run
            self.ledger.record_suite(run_id, self._base, _as(trust.base, "suite"))
        self.ledger.event(
            run_id,
            "suite_trust",
            {
                "tree": self._tree,
                "trusted": trust.problem is None,
                "problem": trust.problem,
                "probe_cached": trust.probe_cached,
                "probed": trust.probe is not None,
                "broken": list(trust.broken),
            },
        )

    def _check(
        self, pool: WorkspacePool, base: str, targets: list[str], cached: CheckResult | None
    ) -> Trust:
        try:
            return self._checks(pool, base, targets, cached)
        except _Stopped:
            return Trust(None, None, (), "the suite's checks were stopped before they finished")

    def _checks(
        self, pool: WorkspacePool, base: str, targets: list[str], cached: CheckResult | None
    ) -> Trust:
        with pool.workspace(base) as ws:
            first = self._suite(ws.path)
            base_check = _as(first, "suite_base")
            if not first.passed:
                again = self._suite(ws.path)
                problem = _base_problem(base, first, again)
                return Trust(_as(again, "suite_base"), None, (), problem)
            if cached is not None:
                return Trust(base_check, cached, (), None, probe_cached=True)
            if not self.probe:
                return Trust(base_check, None, (), None)  # suite_probe = false: said in status
            if not targets:
                return Trust(base_check, None, (), "no source file to probe the suite with")
            for rel in targets:
                break_file(ws.path / rel)
            probe = _as(self._suite(ws.path), "suite_probe")
            if not probe.passed:
                return Trust(base_check, probe, tuple(targets), None)
            return Trust(base_check, probe, tuple(targets), self._insensitive(ws.path, targets))

    def _insensitive(self, worktree: Path, broken: list[str]) -> str:
        """Why a suite passed with the code broken, as precisely as can be found out."""
        files = ", ".join(broken[:3]) + (" …" if len(broken) > 3 else "")
        cause = shadow_origin(self.command, worktree, broken)
        why = (
            f"it imports {cause[0]} from {cause[1]}, an installed copy that shadows the "
            "checkout's source"
            if cause
            else "it likely imports an installed copy of the package instead of the checkout's "
            "source, or it does not exercise these files"
        )
        return (
            f"the full suite `{self.command}` still passes with {files} deliberately broken, "
            f"so it does not test this checkout: {why}. Run the tests from the project's own "
            "environment (e.g. `.venv/bin/python -m pytest`, `uv run pytest`), install the "
            "package editable (`pip install -e .`) or put the source first on the path "
            '(pytest\'s `pythonpath = ["src"]`), then set test_command in crewchief.toml'
        )


def prove_head(repo: Path, command: str, timeout_s: float, box: SandboxConfig) -> Trust:
    """The base check and the probe on ``repo``'s HEAD (what ``doctor`` runs), in a pooled
    worktree, recorded and cached in the ledger like a run's."""
    ledger = Ledger.for_repo(repo)
    pool = WorkspacePool(repo)
    try:
        trust = SuiteTrust(repo, ledger, command, timeout_s, box)
        trust.start(pool, git.head_commit(repo), ())
        return trust.verdict(None)
    finally:
        pool.close()
        ledger.close()


class _Stopped(Exception):
    """The driver closed the checks: no further suite run starts."""


def _as(check: CheckResult, kind: str) -> CheckResult:
    return check.model_copy(update={"kind": kind})


def _base_problem(base: str, first: CheckResult, again: CheckResult) -> str:
    if again.passed:
        return (
            f"the full suite is flaky on the base commit {base[:12]}: red, then green on a "
            f"re-run; fix the flaky test first. First run:\n{first.output[-3000:]}"
        )
    return (
        f"the full suite fails on the base commit {base[:12]} before any patch; fix it first "
        f"(no patch is blamed):\n{again.output[-3000:]}"
    )


def shadow_origin(command: str, worktree: Path, broken: Sequence[str]) -> tuple[str, str] | None:
    """(package, where it is imported from) when the suite's Python imports a broken package
    from outside ``worktree``; None when that cannot be shown."""
    python = _python_of(command)
    packages = {_top_package(p) for p in broken if p.endswith(".py")} - {None}
    for package in sorted(p for p in packages if p):
        code = (
            "import importlib.util as u; "
            f"s = u.find_spec({package!r}); print(s.origin if s and s.origin else '')"
        )
        if python is None:
            return None
        proc = procs.run(f"{python} -c {shlex.quote(code)}", worktree, timeout_s=_SPEC_TIMEOUT_S)
        origin = proc.output.strip().splitlines()[-1:] if proc.ok else []
        if origin and origin[0] and not Path(origin[0]).resolve().is_relative_to(worktree):
            return package, origin[0]
    return None


def _python_of(command: str) -> str | None:
    """The shell prefix that starts the suite's Python (``.venv/bin/python``, ``uv run
    python``…), or None when the command does not show one."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for i, word in enumerate(words):
        name = PurePosixPath(word).name
        if name.startswith("python"):
            return shlex.join(words[: i + 1])
        if name in {"pytest", "py.test"}:
            parent = str(PurePosixPath(word).parent)
            return shlex.join([*words[:i], "python" if parent == "." else f"{parent}/python"])
    return None


def _top_package(path: str) -> str | None:
    parts = PurePosixPath(path).parts
    if parts and parts[0] == "src" and len(parts) > 2:
        parts = parts[1:]
    return parts[0] if len(parts) > 1 else PurePosixPath(path).stem
