"""The human gate against a forger, on a real ``crewchief serve``: every request needs the token
kept in ``.crewchief/`` (loopback too), and an approval records the server's approver, never a
name the request gives."""

from __future__ import annotations

import re
import stat
import subprocess
import sys

import httpx

from .runs import Run, Served, states

#: Another local process (not the browser that opened the printed address) tries the gate.
FORGER = """
import re, sys, httpx
base, run = sys.argv[1], sys.argv[2]
page = httpx.get(f"{base}runs/{run}/tasks/t1", timeout=30)
print(page.status_code)
post = httpx.post(
    f"{base}runs/{run}/tasks/t1/decision",
    data={"decision": "approve", "csrf": "0" * 64, "who": "worker"},
    headers={"Origin": base.rstrip("/")},
    timeout=30,
)
print(post.status_code)
"""


def _approvers(run: Run) -> set[str]:
    ledger = run.ledger()
    try:
        return {a.who for a in ledger.approvals(run.run_id)}
    finally:
        ledger.close()


def test_serve_keeps_its_token_under_crewchief_readable_by_its_user_only(run: Run) -> None:
    with Served(run.repo) as served:
        token = served.url.split("?token=")[1]
    kept = run.repo / ".crewchief" / "serve-token"
    assert kept.read_text().strip() == token and len(token) >= 24
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    with Served(run.repo) as again:
        assert again.url.endswith(f"?token={token}")  # a browser's cookie outlives a restart


def test_another_local_process_without_the_token_can_neither_read_nor_act(run: Run) -> None:
    with Served(run.repo) as served:
        base = served.url.split("?")[0]
        forger = subprocess.run(
            [sys.executable, "-c", FORGER, base, run.run_id],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert forger.stdout.split() == ["401", "401"], forger.stdout + forger.stderr
    assert states(run)["t1"] == "verified"
    assert _approvers(run) == set()


def test_an_approval_records_the_servers_approver_not_the_forms(run: Run) -> None:
    with Served(run.repo, "--approver", "alice") as served, httpx.Client(timeout=30) as browser:
        base = served.url.split("?")[0]
        assert browser.get(served.url).status_code == 200  # the token, then its cookie
        page = browser.get(f"{base}runs/{run.run_id}/tasks/t1").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert csrf is not None
        response = browser.post(
            f"{base}runs/{run.run_id}/tasks/t1/decision",
            data={"decision": "approve", "csrf": csrf.group(1), "who": "mallory"},
            headers={"Origin": base.rstrip("/")},
        )
    assert response.status_code == 303, response.text
    assert states(run)["t1"] == "approved"
    assert _approvers(run) == {"alice"}
