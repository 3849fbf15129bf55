"""Workers written to misbehave, and how to see afterwards what they reached.

``ATTACK`` is a script a misbehaving worker (a recipe command, a fast check, the suite) runs in
its worktree: it tries every escape below and prints one ``ATTACK <name>: <outcome>`` line each.
The helpers read what reached the user's repository, the ledger and the process table.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from repo_helpers import GIT_ENV

#: The variable a worker must never see, and its value (the attacker prints it reversed, so no
#: redaction can hide a leak).
KEY_NAME = "OPENAI_API_KEY"
KEY_VALUE = "canary-api-key-5f0c1d9e7b"
ATTACKS = (
    "hook",
    "fsmonitor",
    "move-main",
    "delete-refs",
    "delete-objects",
    "other-worktree",
    "checkout",
    "outside",
    "outside-var",
    "ledger",
    "api-key",
    "setsid",
)

ATTACK = """
import os, shutil, subprocess, sys
from pathlib import Path

TAG = "@TAG@"


def common_dir():
    text = Path(".git").read_text().strip().removeprefix("gitdir:").strip()
    admin = (Path.cwd() / text).resolve()
    return (admin / (admin / "commondir").read_text().strip()).resolve()


def try_(name, fn):
    try:
        fn()
        outcome = "DONE"
    except Exception as e:
        outcome = f"blocked ({type(e).__name__})"
    print(f"ATTACK {name}: {outcome}", flush=True)


def other_worktrees():
    here = Path.cwd().resolve()
    found = [d for d in (REPO / ".crewchief" / "worktrees").iterdir() if d.resolve() != here]
    if not found:
        raise FileNotFoundError("no other worktree visible")
    for d in found:
        (d / "victim.py").write_text("PLANTED = True\\n")


def move_main():
    ref = COMMON / "refs" / "heads" / "main"
    old = ref.read_text()
    other = subprocess.check_output(["git", "commit-tree", "-m", "x", "HEAD^{tree}"])
    ref.write_text(other.decode())
    if ref.read_text() == old:
        raise PermissionError("unchanged")


def api_key():
    print("KEY-REVERSED", os.environ["@KEY@"][::-1], flush=True)


def setsid():
    subprocess.Popen(
        ["setsid", sys.executable, "-c", "import time; time.sleep(600)", TAG],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


COMMON = common_dir()
REPO = COMMON.parent
try_("hook", lambda: (COMMON / "hooks" / "pre-commit").write_text("#!/bin/sh\\ntouch PWNED\\n"))
FSMONITOR = "[core]\\n\\tfsmonitor = touch PWNED\\n"
try_("fsmonitor", lambda: open(COMMON / "config", "a").write(FSMONITOR))
try_("move-main", move_main)
try_("delete-refs", lambda: shutil.rmtree(COMMON / "refs" / "heads"))
try_("delete-objects", lambda: shutil.rmtree(COMMON / "objects"))
try_("other-worktree", other_worktrees)
try_("checkout", lambda: (REPO / "planted.txt").write_text("planted\\n"))
try_("outside", lambda: (REPO.parent / "outside.txt").write_text("planted\\n"))
try_("outside-var", lambda: Path("/var/tmp", TAG).write_text("planted\\n"))
try_("ledger", lambda: print(len((REPO / ".crewchief" / "ledger.db").read_bytes())))
try_("api-key", api_key)
try_("setsid", setsid)
"""


#: Attacks that may succeed inside the sandbox because what they reach is private to it (its
#: own /tmp, its own process tree); the tests check that nothing of them is left outside.
CONTAINED = ("outside", "setsid")


def attack_lines(text: str) -> list[tuple[str, str]]:
    """(attack, outcome) of every ``ATTACK`` line in ``text`` (JSON-escaped or not)."""
    return re.findall(r"ATTACK ([\w-]+): (DONE|blocked \(\w+\))", text)


def attack_script(tag: str) -> str:
    return ATTACK.replace("@TAG@", tag).replace("@KEY@", KEY_NAME)


def run_cli(
    repo: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The real CLI in ``repo`` with the canary key in its environment."""
    return subprocess.run(
        [sys.executable, "-m", "crewchief", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **GIT_ENV, "COLUMNS": "160", KEY_NAME: KEY_VALUE, **(env or {})},
    )


def with_tag(tag: str) -> list[int]:
    """Processes whose command line holds ``tag``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if tag.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            continue
    return found


def ledger_text(repo: Path) -> str:
    """Every value stored in the ledger, as text (blobs decoded)."""
    db = sqlite3.connect(f"file:{repo / '.crewchief' / 'ledger.db'}?mode=ro", uri=True)
    parts: list[str] = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
        for row in db.execute(f"SELECT * FROM {table}"):  # table names come from the schema
            parts += [_text(v) for v in row]
    db.close()
    return "\n".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


def integrity(repo: Path) -> str:
    db = sqlite3.connect(f"file:{repo / '.crewchief' / 'ledger.db'}?mode=ro", uri=True)
    (result,) = db.execute("PRAGMA integrity_check").fetchone()
    db.close()
    return str(result)


def git_out(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
