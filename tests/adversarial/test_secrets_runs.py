"""The secret corpus through real runs of the CLI: written into patches, printed by workers, held
in the environment, spelled out in command strings. Afterwards no value is in the ledger's
bytes, the run ref, the target branch, any commit message, any object in ``.git`` (reachable
or not) or ``status --json``; every task whose
patch adds a secret is held with its finding and ``--yes`` merges none of them."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import zlib
from pathlib import Path

import pytest

from repo_helpers import GIT_ENV, PY, default_config, git
from secret_corpus import CORPUS, ENV_SECRETS

#: Prints canaries (comma-separated names, or all) to stdout and stderr, and writes each to
#: DIR/NAME.txt if a directory is given. The canaries travel base85-encoded in the repository,
#: so no command string carries them.
EMIT = """import base64, json, os, sys, zlib
data = json.loads(zlib.decompress(base64.b85decode(open("tools/canaries.b85", "rb").read())))
names = list(data) if sys.argv[1] == "all" else sys.argv[1].split(",")
for name in names:
    if len(sys.argv) > 2:
        os.makedirs(sys.argv[2], exist_ok=True)
        with open(os.path.join(sys.argv[2], name + ".txt"), "w") as fh:
            fh.write(data[name] + "\\n")
    print(data[name])
    print(data[name], file=sys.stderr)
"""
#: Tasks the corpus is spread over (one file per format, so each finding names its format).
GROUPS = 4
BY_NAME = {c.name: c for c in CORPUS}
VALUES = [v for c in CORPUS for v in c.values] + list(ENV_SECRETS.values())


def _add_emitter(project: Path, **config: object) -> None:
    encoded = json.dumps({c.name: c.text for c in CORPUS}).encode()
    (project / "tools").mkdir()
    (project / "tools/emit.py").write_text(EMIT)
    (project / "tools/canaries.b85").write_bytes(base64.b85encode(zlib.compress(encoded)))
    (project / "crewchief.toml").write_text(default_config(workers=4, **config))
    git(project, "add", "-A")
    git(project, "commit", "-qm", "canaries")


def _run(
    project: Path, tasks: list[dict[str, object]], **env_extra: str
) -> subprocess.CompletedProcess[str]:
    plan = project.parent / "plan.json"
    plan.write_text(json.dumps({"goal": "leak", "planner": "hand", "tasks": tasks}))
    env = {**os.environ, **GIT_ENV, **ENV_SECRETS, "COLUMNS": "200", **env_extra}
    return subprocess.run(
        [PY, "-m", "crewchief", "run", "--plan", str(plan), "--yes"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _task(task_id: str, owns: str, command: str, title: str = "") -> dict[str, object]:
    return {
        "id": task_id,
        "title": title or f"task {task_id}",
        "instructions": "x",
        "owned_paths": [owns],
        "backend": "recipe:command",
        "spec": {"command": command},
    }


def _cli(project: Path, *args: str) -> str:
    proc = subprocess.run(
        [PY, "-m", "crewchief", *args],
        cwd=project,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _persisted(project: Path, shown: str) -> dict[str, bytes]:
    """Everything a value could have reached, as bytes, by where."""
    ledger = b"".join(p.read_bytes() for p in (project / ".crewchief").glob("ledger.db*"))
    history = subprocess.run(
        ["git", "log", "--all", "-p", "--format=%H%n%B"], cwd=project, capture_output=True
    ).stdout
    objects = subprocess.run(  # reachable or not, loose or packed
        ["git", "cat-file", "--batch-all-objects", "--batch", "--unordered"],
        cwd=project,
        capture_output=True,
    ).stdout
    return {
        "ledger": ledger,
        "refs (all branches, the run ref, messages)": history,
        "every object in .git": objects,
        "status --json and log --json": shown.encode(),
    }


def _leaks(places: dict[str, bytes]) -> list[str]:
    return [
        f"{where}: {v[:12]}…"
        for where, data in places.items()
        for v in VALUES
        if v.encode() in data
    ]


@pytest.mark.timeout(1200)  # a backstop only: 40 formats through a real run on a loaded machine
def test_a_patch_adding_any_format_is_held_masked_and_never_merged(project: Path) -> None:
    _add_emitter(project)
    groups = {f"g{i}": CORPUS[i::GROUPS] for i in range(GROUPS)}
    tasks = [
        _task(g, f"leak/{g}/", f"{PY} tools/emit.py {','.join(c.name for c in cs)} leak/{g}")
        for g, cs in groups.items()
    ]
    tasks.append(_task("clean", "alpha/a.py", "echo '# fine' >> alpha/a.py"))
    proc = _run(project, tasks)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the held tasks did not make it
    status_text = _cli(project, "status", "--json")
    shown = status_text + _cli(project, "log", "--json")
    states = {t["task"]: t["state"] for t in json.loads(status_text)["task_list"]}
    assert states == {**{g: "rejected" for g in groups}, "clean": "merged"}
    assert _leaks(_persisted(project, shown + proc.stdout + proc.stderr)) == []
    tree = git(project, "ls-tree", "-r", "--name-only", "main").split()
    assert "alpha/a.py" in tree and not [p for p in tree if p.startswith("leak/")]
    found = {str(f["path"]) for fs in _findings(project).values() for f in fs}
    held = [c.name for g, cs in groups.items() for c in cs if f"leak/{g}/{c.name}.txt" in found]
    assert held == [c.name for cs in groups.values() for c in cs]  # every format, its own file


def _findings(project: Path) -> dict[str, list[dict[str, object]]]:
    events = json.loads(_cli(project, "log", "--json"))
    found: dict[str, list[dict[str, object]]] = {}
    for e in events:
        if e["kind"] == "held_for_person" and e["data"].get("reason") == "secret":
            found.setdefault(e["task"], []).extend(e["data"]["findings"])
    return found


def test_secrets_printed_by_workers_held_in_the_environment_or_spelled_in_commands_never_persist(
    project: Path,
) -> None:
    spelled = " ; ".join(c.text for c in CORPUS if "\n" not in c.text)
    # The sandbox passes a worker nothing of crewchief's environment unless named: these are.
    _add_emitter(project, sandbox_pass_env=sorted(ENV_SECRETS))
    # A fast check with a literal secret, from the environment (a committed crewchief.toml
    # would put it in the repository's history by the test's own hand).
    checks = os.pathsep.join(
        [f"{PY} -m compileall -q {{files}}", f"true {BY_NAME['sendgrid'].text}"]
    )
    env_echo = " ".join(f"{name}=${name}" for name in ENV_SECRETS)
    command = (
        f"{PY} tools/emit.py all && echo {env_echo} && echo {env_echo} >&2"
        f" && echo '# fine' >> alpha/a.py # {spelled}"
    )
    proc = _run(
        project,
        [_task("noisy", "alpha/a.py", command, title=f"deploy with {BY_NAME['github-ghp'].text}")],
        CREWCHIEF_FAST_CHECKS=checks,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "# fine" in (project / "alpha/a.py").read_text()  # it merged
    shown = _cli(project, "status", "--json") + _cli(project, "log", "--json")
    assert _leaks(_persisted(project, shown + proc.stdout + proc.stderr)) == []
    ledger = _persisted(project, "")["ledger"]
    assert b"DB_PASS=[REDACTED:DB_PASS]" in ledger  # the worker did print them
    assert b"[REDACTED:" in git(project, "log", "-1", "--format=%B", "main").encode()
