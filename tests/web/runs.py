"""Finished demo runs for the web tests: made once per test process with the real CLI, copied
per test, and (for the rich one) given what model-driven runs record: usage, calls, transcripts,
per-hunk verdicts, a manager summary and a plan with dependencies, risks and questions; its
billing package is a protected path."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.testclient import TestClient

from crewchief.cli.demo import make_demo_repo
from crewchief.ledger.store import Ledger
from crewchief.records import HunkVerdict, ModelCall, TranscriptEntry, Usage, Verdict
from crewchief.web.app import create_app
from crewchief.web.security import TOKEN_HEADER, Guard
from repo_helpers import GIT_ENV, crewchief

ORIGIN = "http://127.0.0.1:8000"
WHO = "web-tester"
#: The token of the servers client_for builds (a real server keeps its own in .crewchief/).
TOKEN = "test-token-0123456789abcdef0123456789"
CODEMOD = [
    "run",
    "--recipe",
    "codemod",
    "--lang",
    "python",
    "--pattern",
    "users.fetch_user($UID)",
    "--rewrite",
    "users.get_user($UID, cache=True)",
    # each task may land on its own: the gate tests reject one and merge the rest
    "--arg",
    "group=false",
]
#: The demo's packages, one task each, in plan order.
PACKAGE_OF = {
    "t1": "accounts",
    "t2": "billing",
    "t3": "notifications",
    "t4": "orders",
    "t5": "reports",
}
PROTECT_BILLING = {"CREWCHIEF_PROTECTED_PATHS": "billing/**"}
FILE_OF = {
    "t1": "accounts/profile.py",
    "t2": "billing/invoice.py",
    "t3": "notifications/email.py",
    "t4": "orders/checkout.py",
    "t5": "reports/daily.py",
}


@dataclass(frozen=True)
class Run:
    repo: Path
    run_id: str

    def ledger(self) -> Ledger:
        return Ledger.existing(self.repo)


def finished_demo_run(directory: Path, env: dict[str, str] | None = None) -> Run:
    """The demo repository after a codemod run that now awaits approval (no --yes)."""
    repo = make_demo_repo(directory)
    proc = crewchief(repo, *CODEMOD, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ledger = Ledger.existing(repo)
    try:
        run_id = ledger.resolve_run(None)
        assert ledger.run(run_id).state == "awaiting_approval"
    finally:
        ledger.close()
    return Run(repo, run_id)


def copy_run(run: Run, directory: Path) -> Run:
    shutil.copytree(run.repo, directory, symlinks=True)
    return Run(directory, run.run_id)


def enrich(run: Run) -> None:
    """Give the run what a model-driven run records (see the module docstring)."""
    ledger = run.ledger()
    try:
        _plan_with_dependencies(ledger, run.run_id)
        summary = {
            "summary": "Every caller moves to the cached API.",
            "order": [
                {"task": "t1", "reason": "profiles first: the others read them"},
                {"task": "t2", "reason": "billing next"},
            ],
        }
        ledger.event(run.run_id, "manager_summary", summary)
        manager_call = ModelCall(role="manager", model="big", cost_usd=0.02)
        ledger.record_calls(run.run_id, [manager_call])
        attempt = ledger.attempts(run.run_id, "t1")[-1].id
        _model_result(ledger, run.run_id, attempt)
        _hunk_review(ledger, run.run_id, attempt)
    finally:
        ledger.close()


def _plan_with_dependencies(ledger: Ledger, run_id: str) -> None:
    """Plan version 2: t3 after t1, t4 after t1 and t2, t5 high risk; risks and a question."""
    plan = ledger.plan(run_id)
    t1, t2, t3, t4, t5 = plan.tasks
    tasks = (
        t1,
        t2,
        t3.model_copy(update={"depends_on": ("t1",)}),
        t4.model_copy(update={"depends_on": ("t1", "t2")}),
        t5.model_copy(update={"risk": "high"}),
    )
    extra = {
        "tasks": tasks,
        "risks": ("invoice totals might be cached <stale>",),
        "open_questions": ("Should reports keep the uncached call?",),
    }
    ledger.record_plan(run_id, plan.model_copy(update=extra))


def _model_result(ledger: Ledger, run_id: str, attempt: str) -> None:
    """t1's result as a model worker reports it: usage, one call, a transcript, assumptions."""
    result = ledger.result(attempt)
    assert result is not None
    call = ModelCall(
        role="worker",
        model="small-model",
        input_tokens=1200,
        output_tokens=340,
        cost_usd=0.0123,
        prompt_digest="ab" * 32,
    )
    transcript = (
        TranscriptEntry(kind="prompt", content="Rewrite <b>every</b> call"),
        TranscriptEntry(kind="tool_call", tool="edit", content="accounts/profile.py"),
        TranscriptEntry(kind="response", content="done: 6 calls"),
    )
    usage = Usage(model="small-model", input_tokens=1200, output_tokens=340, cost_usd=0.0123)
    update = {
        "usage": usage,
        "calls": (call,),
        "transcript": transcript,
        "assumptions": ("profiles are read-mostly",),
    }
    ledger.finish_attempt(run_id, attempt, result.model_copy(update=update))
    ledger.record_calls(run_id, [call], task_id="t1", attempt_id=attempt)  # as the driver does


def _hunk_review(ledger: Ledger, run_id: str, attempt: str) -> None:
    """A model reviewer's verdict on t1 with one fine hunk and one questioned hunk."""
    fine = HunkVerdict(
        path="accounts/profile.py", hunk=1, ok=True, note="cached call is equivalent"
    )
    asked = HunkVerdict(
        path="accounts/settings.py", hunk=1, ok=False, note="check the locale fallback"
    )
    hunks = (fine, asked)
    verdict = Verdict(
        decision="approve", reviewer="llm:manager", reasons=("matches the plan",), hunks=hunks
    )
    ledger.record_verdict(run_id, "t1", attempt, verdict)


def client_for(
    repo: Path, guard: Guard | None = None, who: str = WHO, *, with_token: bool | None = None
) -> TestClient:
    """A browser of the app for ``repo``. Without ``guard``: a loopback server with TOKEN, and
    a browser that carries it (``with_token=False``: one that does not); with ``guard``, the
    browser carries no token unless ``with_token``."""
    app = create_app(repo, guard or Guard.for_bind("127.0.0.1", TOKEN), default_who=who)
    carry = guard is None if with_token is None else with_token
    headers = {TOKEN_HEADER: TOKEN} if carry else {}
    return TestClient(app, base_url=ORIGIN, headers=headers)


def csrf_from(client: TestClient, page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get(page).text)
    assert found, f"no CSRF field on {page}"
    return found.group(1)


def post(client: TestClient, url: str, data: dict[str, str], page: str) -> httpx.Response:
    """A form post as the browser sends it from ``page``: same Origin, the page's CSRF token."""
    form = {**data, "csrf": csrf_from(client, page)}
    return client.post(url, data=form, headers={"Origin": ORIGIN}, follow_redirects=False)


def states(run: Run) -> dict[str, str]:
    ledger = run.ledger()
    try:
        return {t: str(s) for t, s in ledger.task_states(run.run_id).items()}
    finally:
        ledger.close()


class Served:
    """``crewchief serve`` (as ``python -m crewchief.web.commands``) in a subprocess on a free
    loopback port; ``url`` is the address it printed. Stopped (SIGTERM, then SIGKILL) on exit."""

    START_TIMEOUT_S = 30

    def __init__(self, repo: Path, *args: str) -> None:
        # a file, not a pipe: it can never fill up; closed in __exit__
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crewchief.web.commands",
                "--port",
                "0",
                "--repo",
                str(repo),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env={**os.environ, **GIT_ENV},
        )
        self.printed: list[str] = []
        self.url = self._read_url()

    def _read_url(self) -> str:
        assert self.proc.stdout is not None
        guard = threading.Timer(self.START_TIMEOUT_S, self.proc.kill)
        guard.start()
        try:
            for line in self.proc.stdout:
                self.printed.append(line)
                found = re.search(r"open (http://\S+)", line)
                if found:
                    return found.group(1)
        finally:
            guard.cancel()
        self.stderr.seek(0)
        stderr = self.stderr.read().decode(errors="replace")
        raise AssertionError(f"serve printed no address: {''.join(self.printed)}{stderr}")

    @property
    def base(self) -> str:
        """The printed address without its token: ``http://127.0.0.1:PORT/``."""
        return self.url.split("?")[0]

    def at(self, path: str) -> str:
        """The address of ``path`` (no leading /) with the server's token, as a person opens it
        from the printed one."""
        token = self.url.partition("?token=")[2]
        return f"{self.base}{path}" + (f"?token={token}" if token else "")

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()
