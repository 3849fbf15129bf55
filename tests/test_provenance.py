"""Provenance: every line that lands traces back to its run, task, worker and instruction."""

from __future__ import annotations

import json
from pathlib import Path

from repo_helpers import CODEMOD, crewchief_here, git


def test_blame_traces_a_landed_line_to_its_task_and_exact_instruction(project: Path) -> None:
    assert crewchief_here(project, "run", *CODEMOD, "--yes").returncode == 0
    proc = crewchief_here(project, "blame", "beta/b.py:5", "--json")
    assert proc.returncode == 0, proc.stderr
    [line] = json.loads(proc.stdout)
    assert "new_api(v, fast=True)" in line["text"]
    assert line["task"] == "t2" and line["worker"] == "recipe:codemod"
    assert line["digest_matches"] is True
    assert "api.old_api($X)" in line["instructions"]
    assert line["commit"] == git(project, "log", "-1", "--format=%H", "--", "beta/b.py")


def test_lines_crewchief_did_not_write_say_so(project: Path) -> None:
    proc = crewchief_here(project, "blame", "lib/api.py:1-2", "--json")
    assert proc.returncode == 0
    assert [o["run"] for o in json.loads(proc.stdout)] == [None, None]


def test_blame_of_a_missing_file_is_a_user_error(project: Path) -> None:
    proc = crewchief_here(project, "blame", "nope.py")
    assert proc.returncode == 2 and "cannot blame nope.py" in proc.stderr
