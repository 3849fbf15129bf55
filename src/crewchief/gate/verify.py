"""The gate every attempt passes: patch policy and scope, applies to its base, fast checks, then a
reviewer's verdict. Mechanical checks come first and are never skipped by a reviewer."""

from __future__ import annotations

import shlex
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from crewchief import git
from crewchief.config import Config
from crewchief.gate import policy
from crewchief.gate.patchfile import parse, path_text
from crewchief.ledger.redact import Redactor
from crewchief.records import CheckKind, CheckResult, Task, Verdict, WorkerResult
from crewchief.sandbox import runner as sandbox


def policy_rules(cfg: Config) -> policy.PolicyRules:
    """The patch policy a run enforces, from its configuration."""
    return policy.PolicyRules(
        allow_mode_changes=cfg.allow_mode_changes,
        allow_binary=cfg.allow_binary,
        max_patch_bytes=cfg.max_patch_bytes,
    )


def check_policy(
    repo: Path, task: Task, patch: bytes, rules: policy.PolicyRules, base: str | None = None
) -> CheckResult:
    """Scope and patch policy: every path owned, nothing under .git/, no escaping symlink, no
    secret added, no name colliding with one of ``base``'s, …"""
    start = time.monotonic()
    existing = _tree_paths(repo, base) if base else ()
    known = Redactor.from_env().literals  # the same secrets the ledger hides by value
    decision = policy.evaluate(patch, task.owned_paths, rules, repo, existing, known)
    lines = [
        f"{v.code}: {v.path or '(patch)'}: {v.detail}"
        + (" [a person may approve]" if v.needs_human else "")
        for v in decision.violations
    ]
    passed = decision.accepted or decision.needs_human
    return CheckResult(
        name="scope and policy",
        kind="scope",
        passed=passed,
        output="\n".join(lines) or "all paths owned; policy ok",
        duration_s=time.monotonic() - start,
    )


def _tree_paths(repo: Path, commit: str) -> list[str]:
    raw = git.run(["ls-tree", "-r", "-z", "--name-only", commit], repo).stdout
    return [path_text(p) for p in raw.split(b"\0") if p]


Applied = tuple[str | None, str]
"""A patch applied to its base: (the tree, or None when it does not apply; why not)."""


@dataclass(frozen=True)
class Gated:
    """The gate's checks of one attempt, in order, and ``tree``: its patch applied to its base
    (None unless it applied), kept so that integration never applies the patch again."""

    checks: list[CheckResult]
    tree: str | None = None


def check_applies(repo: Path, base: str, patch: bytes, applied: Applied | None = None) -> Gated:
    """The patch applies exactly (no fuzz) to the commit the attempt started from; ``applied``
    when the caller applied it already (a remote attempt's patch, checked out to be gated)."""
    start = time.monotonic()
    tree, reason = applied if applied is not None else git.tree_with_patch(repo, base, patch)
    check = CheckResult(
        name="applies to base",
        kind="apply",
        passed=tree is not None,
        output=reason or f"applies to {base[:12]}",
        duration_s=time.monotonic() - start,
    )
    return Gated([check], tree)


def run_commands(
    commands: Sequence[str],
    kind: CheckKind,
    worktree: Path,
    files: Sequence[str],
    timeout_s: float,
    *,
    box: sandbox.SandboxConfig,
    owner: str = "",
) -> list[CheckResult]:
    """Run each command in ``worktree`` with ``{files}`` expanded to the shell-quoted files,
    in the sandbox ``box`` (``owner``: the run or attempt it runs for).

    A command that names ``{files}`` is skipped when there are none (nothing to check).
    """
    quoted = " ".join(shlex.quote(f) for f in files)
    results = []
    for cmd in commands:
        if "{files}" in cmd and not files:
            continue
        command = cmd.replace("{files}", quoted)
        proc = sandbox.run_shell(command, worktree, box, timeout_s=timeout_s, owner=owner)
        note = f"\n[timed out after {timeout_s:.0f}s]" if proc.timed_out else ""
        results.append(
            CheckResult(
                name=cmd,
                kind=kind,
                passed=proc.ok,
                output=proc.output + note,
                duration_s=proc.duration_s,
            )
        )
    return results


def gate(
    repo: Path,
    task: Task,
    result: WorkerResult,
    worktree: Path,
    base: str,
    cfg: Config,
    *,
    owner: str = "",
    applied: Applied | None = None,
) -> Gated:
    """All mechanical checks of one attempt, in order, stopping at the first failed stage; its
    commands run in the checks' sandbox, their processes marked with ``owner``. ``applied``:
    the patch's tree on ``base`` when the caller applied it already."""
    if result.status != "ok" or not result.patch:
        return Gated([])
    checks = [check_policy(repo, task, result.patch, policy_rules(cfg), base)]
    if not checks[-1].passed:
        return Gated(checks)
    apply = check_applies(repo, base, result.patch, applied)
    checks += apply.checks
    if apply.tree is None:
        return Gated(checks)
    files = _surviving_paths(result.patch)
    box = cfg.check_sandbox()
    timeout = cfg.check_timeout_s
    checks += run_commands(cfg.fast_checks, "fast", worktree, files, timeout, box=box, owner=owner)
    if all(c.passed for c in checks):
        checks += run_commands(
            task.checks, "acceptance", worktree, files, timeout, box=box, owner=owner
        )
    return Gated(checks, apply.tree)


class Reviewer(Protocol):
    """Turns a task, its attempt and the gate's checks into a Verdict."""

    name: str

    def review(
        self, task: Task, result: WorkerResult, checks: Sequence[CheckResult]
    ) -> Verdict: ...


@runtime_checkable
class DeferredReviewer(Reviewer, Protocol):
    """A reviewer whose verdict may come later, from someone else (a host agent over MCP).
    The driver asks with ``request`` (the verdict, or None: asked, pending) and goes on with
    other work; ``given`` is every verdict given so far by attempt, and ``watch`` a future done
    once any of ``attempt_ids`` is answered (what wakes the driver)."""

    def request(
        self, task: Task, result: WorkerResult, checks: Sequence[CheckResult], attempt_id: str
    ) -> Verdict | None: ...

    def given(self) -> Mapping[str, Verdict]: ...

    def watch(self, attempt_ids: Collection[str]) -> Future[str]: ...


@dataclass(frozen=True)
class RuleReviewer:
    """The always-on reviewer: approve exactly when the worker succeeded, produced a change and
    every mechanical check passed. Deterministic workers would repeat themselves, so it never asks
    for a revision; a model reviewer (a separate seam) may."""

    name: str = "rules"

    def review(self, task: Task, result: WorkerResult, checks: Sequence[CheckResult]) -> Verdict:
        if result.status != "ok":
            return Verdict(
                decision="reject",
                reviewer=self.name,
                reasons=(f"worker {result.status}: {result.error or 'no detail'}",),
            )
        if not result.patch:
            return Verdict(
                decision="reject", reviewer=self.name, reasons=("the worker changed nothing",)
            )
        failed = [c for c in checks if not c.passed]
        if failed:
            reasons = tuple(f"{c.kind} check failed: {c.name}" for c in failed)
            return Verdict(
                decision="reject",
                reviewer=self.name,
                reasons=reasons,
                feedback="\n\n".join(c.output[-2000:] for c in failed),
            )
        return Verdict(
            decision="approve", reviewer=self.name, reasons=(f"{len(checks)} checks passed",)
        )


def needs_person(task: Task, paths: Sequence[str], protected: Sequence[str]) -> list[str]:
    """Why this task may not be approved by ``--yes``: high risk, or touching protected or
    sensitive (CI, agent config, .gitattributes) paths."""
    reasons = [f"risk is {task.risk}"] if task.risk == "high" else []
    globs = (*protected, *policy.DEFAULT_SENSITIVE)
    for p in paths:
        hit = policy.sensitive_match(p, globs)
        if hit:
            reasons.append(f"{p} matches protected path {hit}")
    return reasons


def _surviving_paths(patch: bytes) -> list[str]:
    """Paths the patch leaves in place (added, modified, renamed to): what checks look at."""
    return [path_text(f.new_path) for f in parse(patch) if f.new_path is not None]
